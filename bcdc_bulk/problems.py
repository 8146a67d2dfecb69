"""Row problems are data: where, what, how bad, in words an editor understands."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

ERROR = "error"
WARNING = "warning"


class TextEnum(str, Enum):
    """An enum whose members are their text everywhere: in f-strings, str(), JSON and CSV alike."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Code(TextEnum):
    """Every problem code, in one place: stable for scripts (reports carry the value), each with what
    it means and how to fix it. A str, so a code compares, sorts and serializes as its value."""

    REQUIRED = "required"
    CHOICE = "choice"
    LICENCE = "licence"
    ORGANIZATION = "organization"
    CONDITIONAL_REQUIRED = "conditional-required"
    STATE_TRANSITION = "state-transition"
    STATE_PERMISSION = "state-permission"
    STATE_STORED = "state-stored"
    DELETE_PERMISSION = "delete-permission"
    PERMISSION = "permission"
    TOO_LONG = "too-long"
    TOO_SHORT = "too-short"
    NAME = "name"
    TAG = "tag"
    DATE = "date"
    DATE_FORMAT = "date-format"
    EMAIL = "email"
    URL = "url"
    JSON = "json"
    TYPE = "type"
    FORMAT = "format"
    SINGLE_ENTRY = "single-entry"
    CONTACTS = "contacts"
    CONTACT_DISPLAYED = "contact-displayed"
    DUPLICATE_NAME = "duplicate-name"
    DUPLICATE_TITLE = "duplicate-title"
    NAME_IN_USE = "name-in-use"
    TITLE_IN_USE = "title-in-use"
    UPLOAD_MISSING = "upload-missing"
    URL_NOT_WEB = "url-not-web"
    FORMULA = "formula"
    TYPED_DATE = "typed-date"
    TYPED_NUMBER = "typed-number"
    CELL_TOO_LONG = "cell-too-long"
    CONTROL_CHARACTER = "control-character"
    EDGE_SPACE = "edge-space"
    CUT_VALUE_EDITED = "cut-value-edited"
    UNKNOWN_RECORD = "unknown-record"
    UNKNOWN_PACKAGE = "unknown-package"
    UNKNOWN_RESOURCE = "unknown-resource"
    DELETED_PACKAGE = "deleted-package"
    RESOURCE_MOVED = "resource-moved"
    POSITION = "position"
    DUPLICATE_POSITION = "duplicate-position"

    @property
    def fix(self) -> str:
        """How to fix a problem of this code, in a few words."""
        return _FIXES.get(self, "see the message")


_FIXES = {
    Code.REQUIRED: "fill in the cell", Code.CHOICE: "pick a value from the dropdown",
    Code.LICENCE: "pick a licence from the dropdown", Code.ORGANIZATION: "pick one of your organizations",
    Code.CONDITIONAL_REQUIRED: "fill in the cell, or change the value it depends on",
    Code.STATE_TRANSITION: "pick a state the current one may move to",
    Code.STATE_PERMISSION: "ask an admin of the organization", Code.STATE_STORED: "ask the catalogue's administrators",
    Code.DELETE_PERMISSION: "ask an admin of the organization", Code.PERMISSION: "ask for the editor role",
    Code.TOO_LONG: "shorten the text", Code.TOO_SHORT: "lengthen the text",
    Code.NAME: "use lowercase letters, digits, - and _", Code.TAG: "use letters, digits, spaces, - _ and .",
    Code.DATE: "write the date as YYYY-MM-DD", Code.DATE_FORMAT: "write the date as YYYY-MM-DD",
    Code.EMAIL: "check the address", Code.URL: "start the address with https://", Code.JSON: "fix the JSON",
    Code.SINGLE_ENTRY: "keep one entry", Code.CONTACTS: "add a contact on the Contacts sheet",
    Code.CONTACT_DISPLAYED: "mark a contact 'displayed'", Code.DUPLICATE_NAME: "choose another URL name",
    Code.DUPLICATE_TITLE: "choose another title", Code.NAME_IN_USE: "choose another URL name",
    Code.TITLE_IN_USE: "choose another title",
    Code.UPLOAD_MISSING: "put the file where the path says",
    Code.URL_NOT_WEB: "type a web address (https://...), or add the file in the catalogue's form",
    Code.FORMULA: "type the value itself",
    Code.TYPED_DATE: "format the cell as Text and type the value again",
    Code.TYPED_NUMBER: "format the cell as Text and type the value again",
    Code.CELL_TOO_LONG: "edit the text in the catalogue", Code.CONTROL_CHARACTER: "retype the text",
    Code.EDGE_SPACE: "delete the spaces or line break at the start or end",
    Code.CUT_VALUE_EDITED: "edit the text in the catalogue, or put the cell back",
    Code.UNKNOWN_RECORD: "leave the id empty on a new row", Code.UNKNOWN_PACKAGE: "check the dataset URL name",
    Code.UNKNOWN_RESOURCE: "check the resource", Code.DELETED_PACKAGE: "put the dataset row back",
    Code.RESOURCE_MOVED: "put the dataset URL name back", Code.POSITION: "type a whole number",
    Code.DUPLICATE_POSITION: "give each entry its own number",
}


@dataclass(frozen=True)
class Problem:
    """One problem in one cell (or row) of a workbook.

    ``code`` is stable (``required``, ``choice``, ``conditional-required``,
    ``state-transition`` ...) so scripts can rely on it; ``message`` is for people.
    ``pre_existing`` marks a problem the record already had before the user's edit:
    it still blocks saving the record, because the catalogue checks the whole record.
    """

    sheet: str
    row: int | None
    column: str
    field: str
    value: str
    code: str
    message: str
    severity: str = ERROR
    record: str = ""
    pre_existing: bool = False
    dataset: str = ""  # the dataset's URL name, for people (record is its id)

    @property
    def where(self) -> str:
        """Where to look: 'Datasets!F7', or 'Datasets row 7' without a column, or the sheet."""
        if self.row and self.column:
            return f"{self.sheet}!{self.column}{self.row}"
        return f"{self.sheet} row {self.row}" if self.row else self.sheet

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON and CSV reports)."""
        return asdict(self)


TITLES_UNSEEN_NOTE = ("New titles were checked against the records you can see. The catalogue also counts deleted "
                      "records and other organizations' private records, which no one but a sysadmin can see: "
                      "if one of those has a title you chose, apply says so in its cell and writes the rest.")


@dataclass
class ValidationReport:
    """Every problem found in a workbook, and whether it may be applied."""

    problems: list[Problem] = field(default_factory=list)
    records_checked: int = 0
    notes: list[str] = field(default_factory=list)  # said once for the whole workbook, not per cell

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop their row."""
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        """Problems shown but not stopping anything."""
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def valid(self) -> bool:
        """True when no problem is an error."""
        return not self.errors

    def blocked_records(self) -> set[str]:
        """Records (package ids or new-row keys) that may not be written."""
        return {p.record for p in self.errors if p.record}
