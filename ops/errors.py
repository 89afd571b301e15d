"""Exit codes and the exceptions that map onto them, so every command fails the same way."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from botocore.exceptions import BotoCoreError, ClientError

EXIT_OK: Final = 0
EXIT_CHECK_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_AWS: Final = 3

# NoCredentialsError, EndpointConnectionError, WaiterError and NoRegionError are all BotoCoreErrors.
AWS_ERRORS: Final = (ClientError, BotoCoreError)


class UsageError(Exception):
    """The operator asked for something impossible (bad value, refused action): exit 2."""


class CheckFailed(Exception):
    """The command ran but what it checked is not healthy: exit 1."""


class AwsError(Exception):
    """An AWS call failed; the message already says which step and why: exit 3."""


def describe_aws_error(error: BaseException) -> str:
    """One line for a botocore error: the operation, the AWS error code and its message."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        code = detail.get("Code", "Unknown")
        message = detail.get("Message", "").strip()
        return f"{error.operation_name} failed: {code}: {message}" if message else f"{error.operation_name}: {code}"
    return " ".join(str(error).split()) or type(error).__name__


@contextmanager
def aws_step(description: str) -> Iterator[None]:
    """Turn any botocore error raised inside into an AwsError naming the step that was running."""
    try:
        yield
    except AWS_ERRORS as error:
        raise AwsError(f"{description}: {describe_aws_error(error)}") from error
