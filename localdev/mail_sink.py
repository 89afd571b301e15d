"""A local SMTP server (aiosmtpd) that keeps every message it receives: `make run` writes them under .local/ for a
person to open, the tests read them back. It can be told to fail, so tests see what a broken server does."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from threading import Lock
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass
class _Keeper:
    """aiosmtpd handler: answers DATA with `answer` (250 by default), stores what it accepted."""

    outbox: Path | None
    answer: str = "250 Message accepted for delivery"
    messages: list[EmailMessage] = field(default_factory=list)
    attempts: int = 0
    lock: Lock = field(default_factory=Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.attempts += 1
            if not self.answer.startswith("250"):
                return self.answer
            raw = cast(bytes, envelope.original_content or envelope.content)
            message = message_from_bytes(raw, policy=policy.default)
            self.messages.append(message)
            if self.outbox is not None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                (self.outbox / f"{stamp}-{len(self.messages):04d}.eml").write_bytes(raw)
        return self.answer


class _AnyPortController(Controller):
    """aiosmtpd's controller, able to bind port 0: it learns the port from the socket before its self-check."""

    def _trigger_server(self) -> None:
        server = cast(Any, self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class MailSink:
    def __init__(self, outbox: Path | None = None, port: int = 0) -> None:
        if outbox is not None:
            outbox.mkdir(parents=True, exist_ok=True)
        self._keeper = _Keeper(outbox)
        self._controller = _AnyPortController(self._keeper, hostname=HOST, port=port)
        self._started = False

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self._controller.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._keeper.lock:
            return list(self._keeper.messages)

    @property
    def attempts(self) -> int:
        """DATA commands received, accepted or not."""
        return self._keeper.attempts

    def answer_with(self, answer: str) -> None:
        """Reply to every DATA with this SMTP answer, e.g. "451 4.3.0 try again later"; "250 OK" restores."""
        self._keeper.answer = answer

    def clear(self) -> None:
        with self._keeper.lock:
            self._keeper.messages.clear()
            self._keeper.attempts = 0
        self._keeper.answer = "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()
        self._started = True

    def stop(self) -> None:
        """Idempotent, and harmless when start() failed (callers stop in a finally)."""
        if self._started:
            self._started = False
            self._controller.stop()


@contextmanager
def running_sink(outbox: Path | None = None, port: int = 0) -> Iterator[MailSink]:
    sink = MailSink(outbox, port)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
