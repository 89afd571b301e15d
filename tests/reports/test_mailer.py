"""analytics/mailer.py against a real SMTP server (aiosmtpd) and SES in moto."""

import socket
from collections.abc import Iterator
from email import message_from_bytes, message_from_string, policy
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from analytics.mailer import Attachment, MailError, SesMailer, SmtpMailer, mailer_from_env
from localdev.mail_sink import MailSink, running_sink
from tests.ops.ops_moto import use_fake_credentials

SENDER = "reports@example.com"
PDF = Attachment("mrr-2026-01-to-2026-06.pdf", "application/pdf", b"%PDF-1.4 \x00\xff binary")
CSV = Attachment("mrr.csv", "text/csv", "month,mrr\n2026-01,1.00\n€\n".encode())


def smtp_mailer(sink: MailSink, sleeps: list[float] | None = None, attempts: int = 3) -> SmtpMailer:
    mailer = mailer_from_env({"SMTP_URL": sink.url, "MAIL_FROM": SENDER})
    assert isinstance(mailer, SmtpMailer)
    record = sleeps.append if sleeps is not None else (lambda _: None)
    return SmtpMailer(mailer.host, mailer.port, SENDER, attempts=attempts, backoff_s=0.5, sleep=record)


def test_smtp_delivers_text_and_attachments_byte_for_byte(mail_sink: MailSink) -> None:
    smtp_mailer(mail_sink).send(
        to=["cfo@example.com", "ops@example.com"],
        subject="Weekly MRR",
        text="Grüße, see attached",
        attachments=[PDF, CSV],
    )
    [message] = mail_sink.messages
    assert message["From"] == SENDER
    assert message["To"] == "cfo@example.com, ops@example.com"
    assert message["Subject"] == "Weekly MRR"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "Grüße, see attached"
    parts = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    ]
    assert parts == [(PDF.filename, PDF.content_type, PDF.data), (CSV.filename, CSV.content_type, CSV.data)]


def test_transient_refusal_is_retried_with_backoff_until_accepted(mail_sink: MailSink) -> None:
    mail_sink.answer_with("451 4.3.0 try again later")
    sleeps: list[float] = []

    def heal_after_two_waits(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            mail_sink.answer_with("250 OK")

    mailer = smtp_mailer(mail_sink, attempts=4)
    SmtpMailer(mailer.host, mailer.port, SENDER, attempts=4, backoff_s=0.5, sleep=heal_after_two_waits).send(
        to=["cfo@example.com"], subject="s", text="t"
    )
    assert sleeps == [0.5, 1.0]
    assert mail_sink.attempts == 3
    assert len(mail_sink.messages) == 1


def test_transient_refusal_gives_up_after_the_attempts_with_one_line(mail_sink: MailSink) -> None:
    mail_sink.answer_with("451 4.3.0 mailbox busy")
    sleeps: list[float] = []
    with pytest.raises(MailError) as error:
        smtp_mailer(mail_sink, sleeps).send(to=["cfo@example.com"], subject="Weekly MRR", text="t")
    assert mail_sink.attempts == 3
    assert sleeps == [0.5, 1.0]
    assert mail_sink.messages == []
    line = str(error.value)
    assert "\n" not in line
    assert "after 3 attempts" in line
    assert mail_sink.url in line
    assert "451" in line
    assert "cfo@example.com" in line


def test_permanent_refusal_is_not_retried(mail_sink: MailSink) -> None:
    mail_sink.answer_with("554 5.6.0 message content rejected")
    with pytest.raises(MailError, match=r"rejected the message: 554 5\.6\.0 message content rejected"):
        smtp_mailer(mail_sink).send(to=["cfo@example.com"], subject="s", text="t")
    assert mail_sink.attempts == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_is_one_clear_line_after_retries() -> None:
    sleeps: list[float] = []
    mailer = SmtpMailer("127.0.0.1", _closed_port(), SENDER, attempts=2, backoff_s=0.25, sleep=sleeps.append)
    with pytest.raises(MailError, match=r"via smtp://127\.0\.0\.1:\d+ failed after 2 attempts: .*refused") as error:
        mailer.send(to=["cfo@example.com"], subject="s", text="t")
    assert "\n" not in str(error.value)
    assert sleeps == [0.25]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMTP_URL": "smtp://127.0.0.1:2525"}, "MAIL_FROM is not set"),
        ({"SMTP_URL": "smtp://127.0.0.1:2525", "MAIL_FROM": "not-an-address"}, "MAIL_FROM='not-an-address'"),
        ({"SMTP_URL": "http://127.0.0.1:2525", "MAIL_FROM": SENDER}, "SMTP_URL='http://127.0.0.1:2525'"),
        ({"SMTP_URL": "smtp://127.0.0.1", "MAIL_FROM": SENDER}, "SMTP_URL='smtp://127.0.0.1'"),
        ({"SMTP_URL": "smtp://127.0.0.1:port", "MAIL_FROM": SENDER}, "SMTP_URL='smtp://127.0.0.1:port'"),
        ({"MAIL_FROM": SENDER}, "neither SMTP_URL nor AWS_REGION"),
    ],
)
def test_bad_environment_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(MailError, match=named.replace("(", r"\(").replace(".", r"\.")):
        mailer_from_env(env)


def test_no_recipients_is_refused_before_connecting() -> None:
    mailer = SmtpMailer("127.0.0.1", _closed_port(), SENDER, attempts=1)
    with pytest.raises(MailError, match="no recipients"):
        mailer.send(to=[], subject="s", text="t")


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        boto3.client("sesv2", region_name="eu-west-1").create_email_identity(EmailIdentity="example.com")
        yield "eu-west-1"


def test_ses_sends_the_same_mime_message_when_smtp_url_is_unset(ses: str) -> None:
    mailer = mailer_from_env({"MAIL_FROM": SENDER, "AWS_REGION": ses})
    assert isinstance(mailer, SesMailer)
    mailer.send(to=["cfo@example.com"], subject="Weekly MRR", text="see attached", attachments=[PDF])
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID][ses].sent_messages
    assert sent.source == SENDER
    assert set(sent.destinations) == {"cfo@example.com"}  # moto adds the To header to the Destination
    message = message_from_string(sent.raw_data, policy=policy.default)
    [attachment] = message.iter_attachments()
    assert (attachment.get_filename(), attachment.get_payload(decode=True)) == (PDF.filename, PDF.data)


def test_ses_unverified_sender_is_one_line_without_retry(ses: str) -> None:
    sleeps: list[float] = []
    client = boto3.client("sesv2", region_name=ses)
    mailer = SesMailer(client, "alerts@unverified.example.org", sleep=sleeps.append)
    with pytest.raises(MailError, match=r"SES \(eu-west-1\) refused mail from alerts@unverified\.example\.org") as err:
        mailer.send(to=["cfo@example.com"], subject="s", text="t")
    assert "\n" not in str(err.value)
    assert sleeps == []
    assert ses_backends[DEFAULT_ACCOUNT_ID][ses].sent_messages == []


def test_ses_throttling_is_retried_with_backoff(ses: str) -> None:
    client = boto3.client("sesv2", region_name=ses)
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_client_error("send_email", "TooManyRequestsException", "Maximum sending rate exceeded.", 429)
        stub.add_response("send_email", {"MessageId": "m-1"})
        SesMailer(client, SENDER, backoff_s=2.0, sleep=sleeps.append).send(
            to=["cfo@example.com"], subject="s", text="t"
        )
        stub.assert_no_pending_responses()
    assert sleeps == [2.0]


def test_ses_refuses_more_recipients_than_it_accepts(ses: str) -> None:
    mailer = SesMailer(boto3.client("sesv2", region_name=ses), SENDER)
    with pytest.raises(MailError, match="at most 50 recipients"):
        mailer.send(to=[f"r{i}@example.com" for i in range(51)], subject="s", text="t")


def test_the_make_run_sink_writes_each_mail_as_an_eml_file(tmp_path: Path) -> None:
    outbox = tmp_path / "mail"
    with running_sink(outbox) as sink:
        smtp_mailer(sink).send(to=["cfo@example.com"], subject="Weekly MRR", text="t", attachments=[PDF])
    [saved] = sorted(outbox.glob("*.eml"))
    message = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Weekly MRR"
    assert [part.get_filename() for part in message.iter_attachments()] == [PDF.filename]


def test_stopping_a_sink_that_never_started_is_harmless() -> None:
    MailSink().stop()
