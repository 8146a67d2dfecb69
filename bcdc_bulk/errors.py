"""Exceptions that mean "cannot go on". Problems in rows are data, not these."""
from __future__ import annotations


class BulkError(Exception):
    """A fatal error with a message written for the person running the tool.

    ``outcome``, when set, says what the failed run left behind (what was written and
    what was not), in place of the command's usual words."""

    outcome: str | None = None


class ConfigError(BulkError):
    """Settings are missing or wrong (remote, API key, config file)."""


class CatalogueError(BulkError):
    """The catalogue could not be read or written."""


class NotAuthorized(CatalogueError):
    """The server refused the call for lack of permission (HTTP 403)."""


class NotFound(CatalogueError):
    """The record or organization does not exist (HTTP 404)."""


class ServerValidationError(CatalogueError):
    """The server rejected a record; ``errors`` maps field names to messages."""

    def __init__(self, message: str, errors: dict) -> None:
        super().__init__(message)
        self.errors = errors


class TransientError(CatalogueError):
    """A failure that may pass if retried (connection, timeout, 429, 500, 502-504).

    ``retry_after`` is the server's Retry-After in seconds, when it sent one;
    ``maybe_done`` is True when the request may have reached the server and been
    carried out (a timeout, a dropped connection, a gateway error): before a write
    is retried, the record must be read back."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None,
                 maybe_done: bool = False) -> None:
        super().__init__(message)
        self.status, self.retry_after, self.maybe_done = status, retry_after, maybe_done


class WorkbookError(BulkError):
    """The workbook's structure is broken; names where, so the user can fix it."""

    def __init__(self, message: str, sheet: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        where = ", ".join(
            part for part in (
                f"sheet '{sheet}'" if sheet else "",
                f"row {row}" if row else "",
                f"column {column}" if column else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.sheet, self.row, self.column = sheet, row, column
