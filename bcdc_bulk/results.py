"""What a run of apply is asked and what it answers: its settings, the statuses of rows, the outcome of
each change, one result per workbook row, and the run's result (see applying.py for the run)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcdc_bulk.calls import REVISE
from bcdc_bulk.problems import TextEnum

if TYPE_CHECKING:
    from bcdc_bulk.plan import FieldChange


class Status(TextEnum):
    """What happened to a row (the report's status column); a str, so it serializes as its value."""

    APPLIED = "applied"
    CREATED = "created"
    REMOVED = "removed"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    CONFLICT = "conflict"
    FAILED = "failed"
    SKIPPED = "skipped"
    KEPT = "kept"  # an undo workbook's value the catalogue no longer takes: its current value stays


APPLIED, CREATED, REMOVED, UNCHANGED, INVALID, CONFLICT, FAILED, SKIPPED, KEPT = Status
STATUSES = tuple(Status)
NOT_DONE = {INVALID, CONFLICT, FAILED, SKIPPED, KEPT}


@dataclass
class ApplySettings:
    """How to apply: call style, concurrency, retries, and where the run's files go."""

    method: str = REVISE
    workers: int = 4
    max_rate: float = 0.0  # calls a second, 0 for no limit
    retries: int = 5
    backoff: float = 0.5  # seconds before the first retry; doubles each time, with jitter
    dry_run: bool = False
    journal: Path | None = None  # default: <workbook>.journal.jsonl beside it
    undo: Path | None = None  # default: <workbook>.undo-<time>.xlsx beside it
    local_files: bool = True  # may a new resource's URL name a file beside the workbook to upload? (never on a server)
    journal_lines: Any = None  # a JournalLines to keep the journal in (default: the journal file)


@dataclass(frozen=True)
class Outcome:
    """What happened to one change, one new resource, or a whole record."""

    status: Status
    message: str = ""
    attempts: int = 0


@dataclass
class RecordOutcome:
    """What happened to one record: to the whole of it (a conflict, a creation ...), or change by change
    (by the change's id)."""

    whole: Outcome | None = None
    changes: dict[str, Outcome] = field(default_factory=dict)

    def of(self, change: FieldChange) -> Outcome:
        """The outcome a change had (the record's, when the record was decided as a whole)."""
        if self.whole is not None:
            return self.whole
        return self.changes.get(change.id) or Outcome(UNCHANGED)


@dataclass
class RowResult:
    """What happened to one changed or new row of the workbook."""

    sheet: str
    row: int | None
    dataset: str
    dataset_id: str
    resource: str
    resource_id: str
    action: str
    status: str
    changes: str
    message: str = ""
    attempts: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, in report column order."""
        return dict(self.__dict__)


@dataclass
class Preview:
    """What a run is about to do (shown before asking to go on)."""

    site: str
    records: int
    calls: int
    invalid: int
    dry_run: bool


@dataclass
class ApplyResult:
    """A run's outcome: one result per row, counts, and the files written."""

    rows: list[RowResult] = field(default_factory=list)
    interrupted: bool = False
    undo: Path | None = None
    journal: Path | None = None
    calls_made: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """Rows by status, in the fixed status order."""
        return {s.value: sum(1 for r in self.rows if r.status == s) for s in STATUSES}

    @property
    def complete(self) -> bool:
        """True when every row landed (applied, created or already there)."""
        return not any(r.status in NOT_DONE for r in self.rows)
