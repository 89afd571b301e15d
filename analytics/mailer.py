"""Outgoing mail for reports and alerts: SMTP to `SMTP_URL` locally, Amazon SES (boto3 sesv2) in AWS.

Both transports send the same MIME message (text body plus attachments) and retry transient failures with
exponential backoff; when the retries are spent, or the failure is permanent (a 5xx answer, a rejected sender),
`MailError` says in one line what could not be sent where, so callers can record it and try again later.
"""

import os
import smtplib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Final, Protocol, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from email_validator import EmailNotValidError, validate_email

from contracts.environment import AWS_REGION, MAIL_FROM, SMTP_URL

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

SMTP_URL_ENV: Final = SMTP_URL
MAIL_FROM_ENV: Final = MAIL_FROM
REGION_ENV: Final = AWS_REGION
DEFAULT_ATTEMPTS: Final = 3
DEFAULT_BACKOFF_S: Final = 1.0
SMTP_TIMEOUT_S: Final = 30.0
# SES: at most 50 recipients (To + Cc + Bcc) and 10 MB per message (SendRawEmail / SendEmail limits,
# https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html).
SES_MAX_RECIPIENTS: Final = 50
SES_MAX_MESSAGE_BYTES: Final = 10 * 1024 * 1024
# SES errors worth another attempt; anything else (MessageRejected, NotFound, AccessDenied, ...) is permanent.
SES_TRANSIENT: Final = frozenset({"TooManyRequestsException", "LimitExceededException", "InternalFailure"})

T = TypeVar("T")


class MailError(Exception):
    """Mail could not be sent; the message is one line naming the transport, the recipients and the cause."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "application/pdf"
    data: bytes


class Mailer(Protocol):
    def send(self, *, to: Sequence[str], subject: str, text: str, attachments: Sequence[Attachment] = ()) -> None:
        """Deliver one message to every address in `to`; raises MailError once retries are spent."""


class _Transient(Exception):
    """A failure another attempt may cure (connection refused, 4xx answer, throttling)."""


def build_message(
    *, sender: str, to: Sequence[str], subject: str, text: str, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    """The RFC 5322 message both transports send: a UTF-8 text part and one MIME part per attachment."""
    if not to:
        raise MailError("cannot send mail: no recipients")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text, charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename
        )
    return message


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def with_retries(
    action: Callable[[], T], *, attempts: int, backoff_s: float, sleep: Callable[[float], None], what: str
) -> T:
    """Run `action`; on `_Transient` wait backoff_s, 2 * backoff_s, ... and try again, up to `attempts` tries."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except _Transient as exc:
            if attempt == attempts:
                raise MailError(f"{what} failed after {attempts} attempts: {_one_line(exc)}") from exc
            sleep(backoff_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable: attempts >= 1")  # pragma: no cover


@dataclass(frozen=True)
class SmtpMailer:
    """Plain SMTP (`smtp://host:port`) or implicit TLS (`smtps://host:port`), without authentication: the local
    sink and relays on a private network; AWS deployments use SES instead."""

    host: str
    port: int
    sender: str
    use_tls: bool = False
    attempts: int = DEFAULT_ATTEMPTS
    backoff_s: float = DEFAULT_BACKOFF_S
    timeout_s: float = SMTP_TIMEOUT_S
    sleep: Callable[[float], None] = time.sleep

    @property
    def url(self) -> str:
        return f"{'smtps' if self.use_tls else 'smtp'}://{self.host}:{self.port}"

    def send(self, *, to: Sequence[str], subject: str, text: str, attachments: Sequence[Attachment] = ()) -> None:
        message = build_message(sender=self.sender, to=to, subject=subject, text=text, attachments=attachments)
        what = f"sending {subject!r} to {', '.join(to)} via {self.url}"
        with_retries(
            lambda: self._deliver(message),
            attempts=self.attempts,
            backoff_s=self.backoff_s,
            sleep=self.sleep,
            what=what,
        )

    def _deliver(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.use_tls else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=self.timeout_s) as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise MailError(f"{self.url} refused every recipient: {_refusals(exc.recipients)}") from exc
            raise _Transient(f"recipients refused: {_refusals(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            answer = f"{exc.smtp_code} {reply}"
            if exc.smtp_code >= 500:
                raise MailError(f"{self.url} rejected the message: {' '.join(answer.split())}") from exc
            raise _Transient(answer) from exc
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, disconnected
            raise _Transient(_one_line(exc)) from exc
        if refused:
            raise MailError(f"{self.url} accepted the message but refused some recipients: {_refusals(refused)}")


def _refusals(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {reply.decode(errors='replace')})" for address, (code, reply) in recipients.items()
    )


@dataclass(frozen=True)
class SesMailer:
    """Amazon SES v2 `SendEmail` with raw content (the attachments need it). botocore's standard retry mode
    already backs off on throttling and 5xx; our own loop adds attempts for what it gives up on."""

    client: "SESV2Client"
    sender: str
    attempts: int = DEFAULT_ATTEMPTS
    backoff_s: float = DEFAULT_BACKOFF_S
    sleep: Callable[[float], None] = time.sleep

    def send(self, *, to: Sequence[str], subject: str, text: str, attachments: Sequence[Attachment] = ()) -> None:
        if len(to) > SES_MAX_RECIPIENTS:
            raise MailError(f"SES takes at most {SES_MAX_RECIPIENTS} recipients per message, got {len(to)}")
        raw = build_message(sender=self.sender, to=to, subject=subject, text=text, attachments=attachments).as_bytes()
        if len(raw) > SES_MAX_MESSAGE_BYTES:
            raise MailError(f"the message is {len(raw)} bytes; SES takes at most {SES_MAX_MESSAGE_BYTES}")
        region = self.client.meta.region_name
        what = f"sending {subject!r} to {', '.join(to)} via SES ({region})"
        with_retries(
            lambda: self._deliver(to, raw, region),
            attempts=self.attempts,
            backoff_s=self.backoff_s,
            sleep=self.sleep,
            what=what,
        )

    def _deliver(self, to: Sequence[str], raw: bytes, region: str) -> None:
        try:
            self.client.send_email(
                FromEmailAddress=self.sender, Destination={"ToAddresses": list(to)}, Content={"Raw": {"Data": raw}}
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in SES_TRANSIENT:
                raise _Transient(_one_line(exc)) from exc
            raise MailError(f"SES ({region}) refused mail from {self.sender}: {_one_line(exc)}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, no credentials, ...
            raise _Transient(_one_line(exc)) from exc


def _sender_from_env(env: Mapping[str, str]) -> str:
    sender = env.get(MAIL_FROM_ENV, "").strip()
    if not sender:
        raise MailError(f"{MAIL_FROM_ENV} is not set: the sender address of reports and alerts is required")
    try:
        validate_email(sender, check_deliverability=False)
    except EmailNotValidError as exc:
        raise MailError(f"{MAIL_FROM_ENV}={sender!r} is not an email address: {exc}") from None
    return sender


def _smtp_from_url(url: str, sender: str) -> SmtpMailer:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port is None:
        raise MailError(f"{SMTP_URL_ENV}={url!r} is not smtp://host:port (or smtps://host:port)")
    return SmtpMailer(host=parts.hostname, port=port, sender=sender, use_tls=parts.scheme == "smtps")


def mailer_from_env(env: Mapping[str, str] = os.environ) -> Mailer:
    """SMTP when `SMTP_URL` is set (local runs, the `make run` sink), else SES in `AWS_REGION`."""
    sender = _sender_from_env(env)
    url = env.get(SMTP_URL_ENV, "").strip()
    if url:
        return _smtp_from_url(url, sender)
    region = env.get(REGION_ENV) or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise MailError(f"neither {SMTP_URL_ENV} nor {REGION_ENV} is set: no way to send mail")
    client = boto3.client("sesv2", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 3}))
    return SesMailer(client=client, sender=sender)
