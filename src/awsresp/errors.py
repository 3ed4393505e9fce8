"""The exceptions awsresp raises for conditions a user can fix; the CLI maps them to exit codes."""

from __future__ import annotations


class AwsrespError(Exception):
    """A problem the user can fix (configuration, credentials, input). Exit code 2."""


class SpecError(AwsrespError):
    """A collector spec or mapping file is malformed; the message names the file and the id."""

    def __init__(self, file: str, where: str, message: str) -> None:
        self.file = file
        self.where = where
        super().__init__(f"{file}: {where}: {message}" if where else f"{file}: {message}")


class CredentialsError(AwsrespError):
    """No usable AWS credentials (unknown profile, expired token, nothing configured)."""


class OutputError(AwsrespError):
    """An output path cannot be written."""
