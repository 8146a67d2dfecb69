"""Row problems are data: where, what, how bad, in words an editor understands."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"


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


@dataclass
class ValidationReport:
    """Every problem found in a workbook, and whether it may be applied."""

    problems: list[Problem] = field(default_factory=list)
    records_checked: int = 0

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
