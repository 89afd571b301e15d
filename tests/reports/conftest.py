"""Reports fixtures: one real SMTP server (aiosmtpd) for the session, emptied and reset to "accept" per test."""

from collections.abc import Iterator

import pytest

from localdev.mail_sink import MailSink, running_sink


@pytest.fixture(scope="session")
def _session_sink() -> Iterator[MailSink]:
    with running_sink() as sink:
        yield sink


@pytest.fixture
def mail_sink(_session_sink: MailSink) -> MailSink:
    _session_sink.clear()
    return _session_sink
