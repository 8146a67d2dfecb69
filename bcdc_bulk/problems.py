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
        return RULES[self].fix if self in RULES else _FIXES.get(self, "see the message")


@dataclass(frozen=True)
class Rule:
    """What the registry holds for one code: how to fix it, and what it says, a template a variant
    ('' for the usual one) with the values it names in braces."""

    fix: str
    says: dict[str, str]


def say(code: Code, variant: str = "", /, **values: Any) -> str:
    """The message of a problem of ``code`` (its ``variant``), with ``values`` put in."""
    return RULES[code].says[variant].format(**values)


# the problems found while a workbook is planned (planning.py), its cells read (diffing.py) and its
# records checked against the schema (validation.RecordChecker)
RULES: dict[Code, Rule] = {
    Code.REQUIRED: Rule("fill in the cell", {
        "": "{label} is required",
        "keywords": "Keywords: at least one keyword is required"}),
    Code.ORGANIZATION: Rule("pick one of your organizations", {
        "": "{label}: '{org}' is not an organization of this catalogue; pick one from the dropdown",
        "near": "{label}: '{org}' is not an organization of this catalogue; did you mean {near}?",
        "elsewhere": "{label}: '{org}' is not an organization you may create datasets in, and the catalogue "
                     "offers only those; ask an admin of that organization, or pick one of yours"}),
    Code.LICENCE: Rule("pick a licence from the dropdown", {
        "": "{label}: '{shown}' is not a licence of this catalogue; pick one from the dropdown",
        "near": "{label}: '{shown}' is not a licence of this catalogue; pick one from the dropdown; did you "
                "mean {near}?"}),
    Code.CHOICE: Rule("pick a value from the dropdown", {
        "listed": "{label}: '{shown}' is not one of the allowed values: {allowed}"}),
    Code.SINGLE_ENTRY: Rule("keep one entry", {
        "": "{label} may have one entry only; this record has {count}"}),
    Code.CONTACTS: Rule("add a contact on the Contacts sheet", {
        "": "Contacts: the record needs at least one contact"}),
    Code.CONTACT_DISPLAYED: Rule("mark a contact 'displayed'", {
        "": "Contacts: at least one contact should be marked 'displayed'"}),
    Code.TAG: Rule("use letters, digits, spaces, - _ and .", {
        "": "Keywords: '{shown}' may only contain letters, digits, spaces, hyphens (-), underscores (_) and dots "
            "(.); separate keywords with commas",
        "short": "Keywords: '{shown}' is too short (at least {limit} characters)",
        "long": "Keywords: '{start}…' is longer than {limit} characters"}),
    Code.TOO_LONG: Rule("shorten the text", {
        "": "{label} may be at most {limit} characters; this one has {size}"}),
    Code.TOO_SHORT: Rule("lengthen the text", {
        "": "{label} must be at least {limit} characters"}),
    Code.JSON: Rule("fix the JSON", {
        "": "{label}: '{shown}' is not a JSON object"}),
    Code.TYPE: Rule("see the message", {
        "": "{label}: '{shown}' has the wrong form; it should be {expected}",
        "array": "{label}: '{shown}' has the wrong form; it should be a list of entries (one row each on its own "
                 "sheet)",
        "object": "{label}: '{shown}' has the wrong form; it should be a JSON object",
        "string": "{label}: '{shown}' has the wrong form; it should be text",
        "schema": "{label}: {said}"}),
    Code.UNKNOWN_PACKAGE: Rule("check the dataset URL name", {
        "": "no dataset with the URL name '{name}' is on the Datasets sheet; check the name, or add the dataset "
            "there first",
        "empty": "the dataset URL name is empty; say which dataset this row belongs to"}),
    Code.DELETED_PACKAGE: Rule("put the dataset row back", {
        "": "the dataset '{name}' was deleted from the Datasets sheet, so its rows here cannot be applied; put "
            "the dataset row back, or delete these rows too"}),
    Code.UNKNOWN_RECORD: Rule("leave the id empty on a new row", {
        "": "id {id} is not a record of this export; ids are filled in by the catalogue, leave the id empty on "
            "a new row",
        "resource": "resource id {id} is not a resource of this export; leave the id empty on a new resource "
                    "row"}),
    Code.RESOURCE_MOVED: Rule("put the dataset URL name back", {
        "": "this resource belongs to '{name}'; a resource cannot be moved to another dataset here. Put the "
            "dataset URL name back"}),
    Code.UNKNOWN_RESOURCE: Rule("check the resource", {
        "": "dataset '{name}' has no resource '{resource}' on the Resources sheet"}),
    Code.POSITION: Rule("type a whole number", {
        "": "the # column must be a whole number (1, 2, 3 ...) giving the entry's order"}),
    Code.DUPLICATE_POSITION: Rule("give each entry its own number", {
        "": "position {position} is used twice for '{name}' (rows {first} and {second})"}),
    Code.CUT_VALUE_EDITED: Rule("edit the text in the catalogue, or put the cell back", {
        "": "this value is longer than an Excel cell holds (or has characters a cell cannot keep), so the "
            "workbook shows it cut; it cannot be written back from the workbook. Edit it in the catalogue, or "
            "put the cell back as exported"}),
    Code.TYPED_NUMBER: Rule("format the cell as Text and type the value again", {
        "": "the spreadsheet stored what was typed here as the number {number}, and it is sent as that text; "
            "if you typed something else (a leading zero, 1E5, a date), format the cell as Text and type it "
            "again"}),
    Code.FORMULA: Rule("type the value itself", {
        "": "this cell holds a formula ({formula}); bcdc-bulk sends values, not formulas: type the value "
            "itself"}),
    Code.TYPED_DATE: Rule("format the cell as Text and type the value again", {
        "": "Excel stored what was typed here as a date (read back as {date}); format the cell as Text and type "
            "the value again"}),
    Code.CELL_TOO_LONG: Rule("edit the text in the catalogue", {
        "": "this cell holds {size:,} characters, more than a spreadsheet cell keeps ({limit:,}), so it may "
            "already be cut; put long text in the catalogue directly"}),
    Code.CONTROL_CHARACTER: Rule("retype the text", {
        "": "this cell holds an invisible control character (at character {at}); retype the text or delete that "
            "character"}),
}


_FIXES = {  # codes whose messages are still written where they are found (validation.py)
    Code.CONDITIONAL_REQUIRED: "fill in the cell, or change the value it depends on",
    Code.STATE_TRANSITION: "pick a state the current one may move to",
    Code.STATE_PERMISSION: "ask an admin of the organization",
    Code.STATE_STORED: "ask the catalogue's administrators",
    Code.DELETE_PERMISSION: "ask an admin of the organization",
    Code.PERMISSION: "ask for the editor role",
    Code.NAME: "use lowercase letters, digits, - and _",
    Code.DATE: "write the date as YYYY-MM-DD",
    Code.DATE_FORMAT: "write the date as YYYY-MM-DD",
    Code.EMAIL: "check the address",
    Code.URL: "start the address with https://",
    Code.DUPLICATE_NAME: "choose another URL name",
    Code.DUPLICATE_TITLE: "choose another title",
    Code.NAME_IN_USE: "choose another URL name",
    Code.TITLE_IN_USE: "choose another title",
    Code.UPLOAD_MISSING: "put the file where the path says",
    Code.URL_NOT_WEB: "type a web address (https://...), or add the file in the catalogue's form",
    Code.EDGE_SPACE: "delete the spaces or line break at the start or end",
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
