"""Row problems are data: where, what, how bad, in words an editor understands."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

ERROR = "error"  # stops its row: the catalogue would refuse it, or it would be sent wrong
WARNING = "warning"  # shown, and the row is still sent
# a Rule's severity when it depends on the catalogue: an error where its schema enforces the rule, a
# warning where only its form or its guidance asks for it (validation reads which from the schema)
AS_ENFORCED = "as-enforced"


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
        return RULES[self].fix


@dataclass(frozen=True)
class Rule:
    """What the registry holds for one code: how bad it is (ERROR, WARNING or AS_ENFORCED), how to fix
    it, and what it says, a template a variant ('' for the usual one) with the values it names in braces."""

    severity: str
    fix: str
    says: dict[str, str]


def severity_of(code: str, given: str = "") -> str:
    """The severity of a problem of ``code``: the registry's, or ``given`` where the registry leaves it to
    the catalogue's schema. A fixed severity contradicted, or one left to the schema not given, is a bug."""
    try:
        rule = RULES[Code(code)]
    except ValueError:  # a code no longer in the registry, read back from an older stored check
        return given or ERROR
    if rule.severity == AS_ENFORCED:
        if given not in (ERROR, WARNING):
            raise ValueError(f"a {code} problem needs its severity: the catalogue's schema decides it")
        return given
    if given and given != rule.severity:
        raise ValueError(f"a {code} problem is always a {rule.severity}, not a {given}")
    return rule.severity


_WEB_ONLY = ("In the catalogue's web pages a resource URL must be a web address starting with https:// (or "
             "http://, ftp://); to attach a file, add the resource in the catalogue's own form")
PRE_EXISTING = "{message} (already so before your edit; the catalogue checks the whole record, so fix it too)"


def say(code: Code, variant: str = "", /, **values: Any) -> str:
    """The message of a problem of ``code`` (its ``variant``), with ``values`` put in."""
    return RULES[code].says[variant].format(**values)


# the problems found while a workbook is planned (planning.py), its cells read (diffing.py) and its
# records checked against the schema (validation.RecordChecker)
RULES: dict[Code, Rule] = {
    Code.CONDITIONAL_REQUIRED: Rule(AS_ENFORCED, "fill in the cell, or change the value it depends on", {
        "": "{label} is required when {condition} is '{value}'",
        "resource": "{label} is required when {condition} is '{value}' (BCDC requires it; the catalogue does not "
                    "check it on resources)"}),
    Code.DATE: Rule(AS_ENFORCED, "write the date as YYYY-MM-DD", {
        "": "'{shown}' is not a date the catalogue can read; write it as YYYY-MM-DD, e.g. 2024-03-31"}),
    Code.DATE_FORMAT: Rule(WARNING, "write the date as YYYY-MM-DD", {
        "": "'{shown}' is read as a date, but write dates as YYYY-MM-DD (e.g. 2024-03-31) so nobody misreads it"}),
    Code.EMAIL: Rule(AS_ENFORCED, "check the address", {
        "": "'{shown}' does not look like an e-mail address (name@example.gov.bc.ca)",
        "no-at": "'{shown}' is not an e-mail address at all (it has no @); write the address, e.g. "
                "name@example.gov.bc.ca"}),
    Code.URL: Rule(WARNING, "start the address with https://", {
        "": "'{shown}' does not look like a web address; it should start with https://"}),
    Code.FORMAT: Rule(AS_ENFORCED, "see the message", {
        "": "'{shown}' is not in the expected format"}),
    Code.STATE_TRANSITION: Rule(ERROR, "pick a state the current one may move to", {
        "": "State: a record cannot move from {old} to {new}; from {old} it may move to: {valid}",
        "new": "State: a new record must start as {start}; it cannot be created as {new}"}),
    Code.STATE_STORED: Rule(ERROR, "ask the catalogue's administrators", {
        "": "State: this record's stored state '{old}' is not one of the catalogue's states ({states}), and the "
            "catalogue fails (HTTP 500) when asked to move it to another; put the cell back to '{old}' and ask "
            "the catalogue's administrators to correct the stored state"}),
    Code.STATE_PERMISSION: Rule(AS_ENFORCED, "ask an admin of the organization", {
        "role": "State: moving from {old} to {new} needs the {who} role in this organization; you are an {role} "
                "there",
        "no-role": "State: moving from {old} to {new} needs the {who} role in this organization; you are not a "
                   "member there",
        "or": "{first} or {second}",
        "unknown": "State: only an organization admin may move a record from {old} to {new} (validate with -r "
                   "to check your role)"}),
    Code.PERMISSION: Rule(ERROR, "ask for the editor role", {
        "": "you ({user}) may not edit records of '{name}'; ask its admin for the editor role"}),
    Code.DELETE_PERMISSION: Rule(AS_ENFORCED, "ask an admin of the organization", {
        "": "this dataset cannot be removed by you ({user}): you may not edit records of its organization",
        "editor": "this dataset cannot be removed by you ({user}): it is {state}; an editor may remove Drafts "
                  "only, ask an admin of its organization",
        "unknown": "the dataset will be removed if your role allows it: editors may remove Drafts only, admins "
                   "any dataset (check against the catalogue with -r)",
        "no-state": "not a Draft"}),
    Code.DUPLICATE_NAME: Rule(ERROR, "choose another URL name", {
        "": "URL name '{value}' is already in this workbook, on {count} other row(s); it must be unique"}),
    Code.DUPLICATE_TITLE: Rule(ERROR, "choose another title", {
        "": "Title '{value}' is already in this workbook, on {count} other row(s); it must be unique"}),
    Code.NAME_IN_USE: Rule(ERROR, "choose another URL name", {
        "": "URL name '{value}' is already used by another record in the catalogue; it must be unique"}),
    Code.TITLE_IN_USE: Rule(ERROR, "choose another title", {
        "": "Title '{value}' is already used by another record in the catalogue; it must be unique"}),
    Code.REQUIRED: Rule(AS_ENFORCED, "fill in the cell", {
        "": "{label} is required",
        "keywords": "Keywords: at least one keyword is required"}),
    Code.ORGANIZATION: Rule(AS_ENFORCED, "pick one of your organizations", {
        "": "{label}: '{org}' is not an organization of this catalogue; pick one from the dropdown",
        "near": "{label}: '{org}' is not an organization of this catalogue; did you mean {near}?",
        "elsewhere": "{label}: '{org}' is not an organization you may create datasets in, and the catalogue "
                     "offers only those; ask an admin of that organization, or pick one of yours"}),
    Code.LICENCE: Rule(AS_ENFORCED, "pick a licence from the dropdown", {
        "": "{label}: '{shown}' is not a licence of this catalogue; pick one from the dropdown",
        "near": "{label}: '{shown}' is not a licence of this catalogue; pick one from the dropdown; did you "
                "mean {near}?"}),
    Code.CHOICE: Rule(AS_ENFORCED, "pick a value from the dropdown", {
        "listed": "{label}: '{shown}' is not one of the allowed values: {allowed}",
        "state-stored-as-label": "{label}: stored as '{shown}', where the list's value is '{same}'; the catalogue "
                                 "cannot move a record on from a state its list does not hold, so ask its "
                                 "administrators to correct the stored state (leave the cell as it is)",
        "stored-as-label": "{label}: stored as '{shown}', the form's label, where the list's value is '{same}'; "
                           "type {same} here (or pick another entry) to store it as the list has it",
        "form": "{label}: '{shown}' should be written '{same}', as the list has it",
        "form-shown": "{label}: '{shown}' should be written '{same}' (shown as {as_shown}), as the list has it",
        "retired-successor": "{label}: '{shown}' is a value of the catalogue's older form that it no longer "
                              "takes; today's is '{successor}'",
        "retired-listed": "{label}: '{shown}' is a value of the catalogue's older form that it no longer takes; "
                           "choose one of: {labels}",
        "retired": "{label}: '{shown}' is a value of the catalogue's older form that it no longer takes; choose "
                   "one from the dropdown",
        "near": "{label}: '{shown}' is not one of the choices; did you mean {near}?",
        "all": "{label}: '{shown}' is not one of the choices: {labels}",
        "many": "{label}: '{shown}' is not one of the {count} choices; choose one from the dropdown"}),
    Code.NAME: Rule(ERROR, "use lowercase letters, digits, - and _", {
        "": "{label}: '{shown}' may only contain lowercase letters (a-z), digits and - or _ (no spaces or "
            "capitals)",
        "autocorrect": "{label}: '{shown}' may only contain lowercase letters (a-z), digits and - or _ (no spaces "
                       "or capitals). Only its first letter is a capital, which a spreadsheet's autocorrect often "
                       "makes: type '{lower}' again (in LibreOffice, Tools > AutoCorrect Options > Options: untick "
                       "'Capitalize first letter of every sentence'; in Excel, AutoCorrect Options: untick "
                       "'Capitalize first letter of sentences')"}),
    Code.EDGE_SPACE: Rule(WARNING, "delete the spaces or line break at the start or end", {
        "": "'{start}' has {ends}, invisible in the cell; it would be sent as typed: delete them unless you mean "
            "them",
        "spaces-at-start": "spaces at its start", "break-at-start": "a line break at its start",
        "spaces-at-end": "spaces at its end", "break-at-end": "a line break at its end",
        "both": "{first} and {second}"}),
    Code.UPLOAD_MISSING: Rule(ERROR, "put the file where the path says", {
        "": "the file to upload, '{url}', was not found (looked in {folder})"}),
    Code.SINGLE_ENTRY: Rule(AS_ENFORCED, "keep one entry", {
        "": "{label} may have one entry only; this record has {count}"}),
    Code.CONTACTS: Rule(AS_ENFORCED, "add a contact on the Contacts sheet", {
        "": "Contacts: the record needs at least one contact",
        "sheet": "Contacts: the record needs at least one contact (add a row on the Contacts sheet)"}),
    Code.CONTACT_DISPLAYED: Rule(WARNING, "mark a contact 'displayed'", {
        "": "Contacts: at least one contact should be marked 'displayed'"}),
    Code.TAG: Rule(ERROR, "use letters, digits, spaces, - _ and .", {
        "": "Keywords: '{shown}' may only contain letters, digits, spaces, hyphens (-), underscores (_) and dots "
            "(.); separate keywords with commas",
        "short": "Keywords: '{shown}' is too short (at least {limit} characters)",
        "long": "Keywords: '{start}…' is longer than {limit} characters"}),
    Code.TOO_LONG: Rule(ERROR, "shorten the text", {
        "": "{label} may be at most {limit} characters; this one has {size}"}),
    Code.TOO_SHORT: Rule(ERROR, "lengthen the text", {
        "": "{label} must be at least {limit} characters"}),
    Code.JSON: Rule(AS_ENFORCED, "fix the JSON", {
        "": "{label}: '{shown}' is not a JSON object"}),
    Code.TYPE: Rule(AS_ENFORCED, "see the message", {
        "": "{label}: '{shown}' has the wrong form; it should be {expected}",
        "array": "{label}: '{shown}' has the wrong form; it should be a list of entries (one row each on its own "
                 "sheet)",
        "object": "{label}: '{shown}' has the wrong form; it should be a JSON object",
        "string": "{label}: '{shown}' has the wrong form; it should be text",
        "schema": "{label}: {said}"}),
    Code.UNKNOWN_PACKAGE: Rule(ERROR, "check the dataset URL name", {
        "": "no dataset with the URL name '{name}' is on the Datasets sheet; check the name, or add the dataset "
            "there first",
        "empty": "the dataset URL name is empty; say which dataset this row belongs to"}),
    Code.DELETED_PACKAGE: Rule(ERROR, "put the dataset row back", {
        "": "the dataset '{name}' was deleted from the Datasets sheet, so its rows here cannot be applied; put "
            "the dataset row back, or delete these rows too"}),
    Code.UNKNOWN_RECORD: Rule(ERROR, "leave the id empty on a new row", {
        "": "id {id} is not a record of this export; ids are filled in by the catalogue, leave the id empty on "
            "a new row",
        "resource": "resource id {id} is not a resource of this export; leave the id empty on a new resource "
                    "row"}),
    Code.RESOURCE_MOVED: Rule(ERROR, "put the dataset URL name back", {
        "": "this resource belongs to '{name}'; a resource cannot be moved to another dataset here. Put the "
            "dataset URL name back"}),
    Code.UNKNOWN_RESOURCE: Rule(ERROR, "check the resource", {
        "": "dataset '{name}' has no resource '{resource}' on the Resources sheet"}),
    Code.POSITION: Rule(ERROR, "type a whole number", {
        "": "the # column must be a whole number (1, 2, 3 ...) giving the entry's order"}),
    Code.DUPLICATE_POSITION: Rule(ERROR, "give each entry its own number", {
        "": "position {position} is used twice for '{name}' (rows {first} and {second})"}),
    Code.CUT_VALUE_EDITED: Rule(ERROR, "edit the text in the catalogue, or put the cell back", {
        "": "this value is longer than an Excel cell holds (or has characters a cell cannot keep), so the "
            "workbook shows it cut; it cannot be written back from the workbook. Edit it in the catalogue, or "
            "put the cell back as exported"}),
    Code.TYPED_NUMBER: Rule(WARNING, "format the cell as Text and type the value again", {
        "": "the spreadsheet stored what was typed here as the number {number}, and it is sent as that text; "
            "if you typed something else (a leading zero, 1E5, a date), format the cell as Text and type it "
            "again"}),
    Code.FORMULA: Rule(ERROR, "type the value itself", {
        "": "this cell holds a formula ({formula}); bcdc-bulk sends values, not formulas: type the value "
            "itself"}),
    Code.TYPED_DATE: Rule(ERROR, "format the cell as Text and type the value again", {
        "": "Excel stored what was typed here as a date (read back as {date}); format the cell as Text and type "
            "the value again"}),
    Code.CELL_TOO_LONG: Rule(ERROR, "edit the text in the catalogue", {
        "": "this cell holds {size:,} characters, more than a spreadsheet cell keeps ({limit:,}), so it may "
            "already be cut; put long text in the catalogue directly"}),
    Code.CONTROL_CHARACTER: Rule(ERROR, "retype the text", {
        "": "this cell holds an invisible control character (at character {at}); retype the text or delete that "
            "character"}),
    Code.URL_NOT_WEB: Rule(ERROR, "type a web address (https://...), or add the file in the catalogue's form", {
        "local": "the URL '{url}' points to a file on a computer or network share, not to the web. " + _WEB_ONLY,
        "path": "the URL '{url}' is a file path, not a web address. " + _WEB_ONLY,
        "scheme": "the URL '{url}' starts with '{scheme}:', not http://, https:// or ftp://. " + _WEB_ONLY}),
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
    severity: str = ""  # the registry's for the code, unless it leaves it to the catalogue's schema
    record: str = ""
    pre_existing: bool = False
    dataset: str = ""  # the dataset's URL name, for people (record is its id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", severity_of(self.code, self.severity))

    @property
    def where(self) -> str:
        """Where to look: 'Datasets!F7' (the id of the change typed in that cell), or 'Datasets row 7' without a
        column, or the sheet."""
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
