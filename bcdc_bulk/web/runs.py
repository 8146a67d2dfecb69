"""The runs of the web extension, kept on the server: one folder per uploaded workbook, holding
the workbook, its check, its apply's journal, report and undo workbook, and a run.json that
says where it stands. An organization's runs are its history.

Plain files, no CKAN: the pages and the background job both read and write runs through here.
An organization has at most one apply at a time (a lock file made with O_EXCL); a second one
is refused with who holds it, so nothing is ever written twice.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bcdc_bulk.errors import BulkError
from bcdc_bulk.files import replaced_atomically
from bcdc_bulk.problems import TextEnum

STALE_SECONDS = 120.0  # an apply whose heartbeat is this old has lost its worker


class RunState(TextEnum):
    """Where a run stands."""

    CHECKED = "checked"  # uploaded and checked; nothing written
    QUEUED = "queued"  # apply asked for, waiting for a worker
    APPLYING = "applying"
    DONE = "done"
    FAILED = "failed"  # the run could not go on (the report says what was written)


ACTIVE = (RunState.QUEUED, RunState.APPLYING)


class Busy(BulkError):
    """Another apply of the same organization is under way."""


@dataclass
class Run:
    """One uploaded workbook and what became of it."""

    id: str
    org_id: str
    org_name: str
    user: str
    filename: str
    uploaded_at: str
    state: RunState = RunState.CHECKED
    valid: bool = False
    errors: int = 0
    warnings: int = 0
    records: int = 0  # records the plan changes or creates
    calls: int = 0  # calls apply would send
    undo_of: str = ""  # the run this one undoes
    applied_by: str = ""
    applied_at: str = ""
    finished_at: str = ""
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)  # label, done, total
    heartbeat: float = 0.0
    created: float = field(default_factory=time.time)  # orders the history within a second

    @property
    def active(self) -> bool:
        """True while queued or applying."""
        return self.state in ACTIVE

    def stale(self, now: float | None = None, limit: float = STALE_SECONDS) -> bool:
        """True when an active run's worker has not beaten for ``limit`` seconds (it was restarted or killed)."""
        return self.active and (now or time.time()) - self.heartbeat > limit


def now_text() -> str:
    """The time now, as run.json keeps it (UTC, seconds)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class RunStore:
    """The runs under one folder (``bcdc_bulk.storage_path``)."""

    WORKBOOK = "workbook.xlsx"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, run: Run | str) -> Path:
        """The folder of a run."""
        return self.root / "runs" / (run if isinstance(run, str) else run.id)

    def file(self, run: Run, name: str) -> Path:
        """A file of a run (workbook.xlsx, annotated.xlsx, report.xlsx, undo.xlsx, plan.txt ...)."""
        return self.folder(run) / name

    def create(self, org_id: str, org_name: str, user: str, filename: str, data: bytes, undo_of: str = "") -> Run:
        """A new run holding the uploaded bytes."""
        run = Run(secrets.token_hex(12), org_id, org_name, user, filename, now_text(), undo_of=undo_of)
        folder = self.folder(run)
        folder.mkdir(parents=True)
        (folder / self.WORKBOOK).write_bytes(data)
        self.save(run)
        return run

    def save(self, run: Run) -> None:
        """Write run.json atomically (a page never reads half of it)."""
        with replaced_atomically(self.folder(run) / "run.json") as tmp:
            tmp.write_text(json.dumps(asdict(run), ensure_ascii=False, indent=1), encoding="utf-8")

    def get(self, run_id: str) -> Run | None:
        """The run with this id (None when there is none, or the id is not one)."""
        if not run_id.isalnum():
            return None
        path = self.folder(run_id) / "run.json"
        if not path.exists():
            return None
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw["state"] = RunState(raw["state"])
        return Run(**raw)

    def history(self, org_id: str) -> list[Run]:
        """An organization's runs, newest first."""
        runs = [self.get(p.name) for p in (self.root / "runs").glob("*") if p.is_dir()]
        return sorted((r for r in runs if r is not None and r.org_id == org_id), key=lambda r: r.created,
                      reverse=True)

    def claim(self, run: Run, user: str, stale_after: float = STALE_SECONDS) -> None:
        """Mark the run queued for ``user``, holding its organization's apply lock; raise Busy, naming
        who holds it, when another apply of the organization (or this one) is under way. Pages in
        several server processes may ask at once: the check and the claim happen under one file lock."""
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{run.org_id}.guard", "a+") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            owner = locks / f"{run.org_id}.owner"
            holder = self.get(owner.read_text(encoding="utf-8").strip()) if owner.exists() else None
            if holder is not None and holder.active and not holder.stale(limit=stale_after):
                if holder.id == run.id:
                    raise Busy(f"'{run.filename}' is already being applied (since {holder.applied_at})")
                raise Busy(f"{holder.applied_by} is applying '{holder.filename}' to {run.org_name} (since "
                           f"{holder.applied_at}); wait until it has finished, then apply again")
            run.state, run.applied_by, run.applied_at, run.heartbeat = RunState.QUEUED, user, now_text(), time.time()
            self.save(run)
            owner.write_text(run.id, encoding="utf-8")

    def requeue(self, run: Run) -> None:
        """A stale run queued again (its journal makes the rerun write nothing twice)."""
        run.state, run.heartbeat = RunState.QUEUED, time.time()
        self.save(run)
