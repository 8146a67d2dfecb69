"""The runs of the web extension, kept in the catalogue's own database: every web process and job
worker sees the same runs, files and journal, whatever pod it runs on (they share no disk).

A run is one uploaded workbook (``kind`` edit) or one inventory or export being prepared; its files
(the workbook, its annotated copy, plan, page, report, undo workbook) are rows of
``bcdc_bulk_file``, its apply's journal rows of ``bcdc_bulk_journal``. An organization has at most one
apply under way: a partial unique index on (org_id) over the active states makes the database refuse a
second, however many processes ask at once. The heartbeat is a column the working job updates.

The tables are made by the extension's migrations (``ckan db upgrade -p bcdc_bulk``); the store also
runs on SQLite (the tests of its logic, without CKAN).
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bcdc_bulk.errors import BulkError
from bcdc_bulk.problems import TextEnum

STALE_SECONDS = 120.0  # an apply whose heartbeat is this old has lost its worker


class RunState(TextEnum):
    """Where a run stands."""

    CHECKING = "checking"  # uploaded; its check is waiting for or running in a job
    CHECKED = "checked"  # checked; nothing written
    REFUSED = "refused"  # not a workbook this organization can take (another site or organization, damaged)
    QUEUED = "queued"  # apply asked for, waiting for a worker
    APPLYING = "applying"
    DONE = "done"
    FAILED = "failed"  # the run could not go on (the report says what was written)
    PREPARING = "preparing"  # an inventory or export being written by a job


class RunKind(TextEnum):
    """What a run is."""

    EDIT = "edit"  # an uploaded workbook: checked, then maybe applied
    INVENTORY = "inventory"
    EXPORT = "export"  # a large organization's workbook, written by a job


# A run's life, in one place: each state and the states it may move to. ``Run.move`` is the only way a
# run's state changes; a move not listed here is a bug, refused.
MOVES: dict[RunState, tuple[RunState, ...]] = {
    RunState.CHECKING: (RunState.CHECKED, RunState.REFUSED),
    RunState.CHECKED: (RunState.QUEUED,),  # Apply pressed (RunStore.claim: one apply an organization)
    RunState.QUEUED: (RunState.APPLYING,),
    # QUEUED again: its worker died and a new job resumes it; APPLYING again: a new job takes it over
    RunState.APPLYING: (RunState.DONE, RunState.FAILED, RunState.QUEUED, RunState.APPLYING),
    RunState.PREPARING: (RunState.DONE, RunState.FAILED),
    RunState.REFUSED: (),
    RunState.DONE: (),
    RunState.FAILED: (),
}
ACTIVE = (RunState.QUEUED, RunState.APPLYING)
WORKING = (RunState.CHECKING, RunState.QUEUED, RunState.APPLYING, RunState.PREPARING)
PAGE_SIZE = 20

metadata = MetaData()
RUNS = Table(
    "bcdc_bulk_run", metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("org_name", Text, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("uploaded_at", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("state", Text, nullable=False),
    Column("heartbeat", Float, nullable=False, default=0.0),
    Column("files_purged", Boolean, nullable=False, default=False),
    Column("data", Text, nullable=False),  # the rest of the run (counts, messages, who applied), as JSON
)
Index("bcdc_bulk_run_history", RUNS.c.org_id, RUNS.c.kind, RUNS.c.created)
Index("bcdc_bulk_run_one_apply", RUNS.c.org_id, unique=True,
      postgresql_where=RUNS.c.state.in_([s.value for s in ACTIVE]),
      sqlite_where=RUNS.c.state.in_([s.value for s in ACTIVE]))
FILES = Table(
    "bcdc_bulk_file", metadata,
    Column("run_id", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
)
JOURNAL = Table(
    "bcdc_bulk_journal", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False, index=True),
    Column("line", Text, nullable=False),
)


class Busy(BulkError):
    """Another apply of the same organization is under way."""


@dataclass
class Run:
    """One uploaded workbook (or inventory, or export) and what became of it."""

    id: str
    org_id: str
    org_name: str
    user: str
    filename: str
    uploaded_at: str
    kind: RunKind = RunKind.EDIT
    state: RunState = RunState.CHECKING
    valid: bool = False
    errors: int = 0
    warnings: int = 0
    records: int = 0  # datasets the plan changes, creates or removes
    calls: int = 0  # calls apply would send
    undo_of: str = ""  # the run this one undoes
    undone_by: str = ""  # the run that undid this one
    applied_by: str = ""
    applied_at: str = ""
    finished_at: str = ""
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)  # report rows by status
    datasets: int = 0  # datasets the report's rows belong to
    progress: dict[str, Any] = field(default_factory=dict)  # label, done, total
    heartbeat: float = 0.0
    created: float = field(default_factory=time.time)  # orders the history within a second
    files_purged: bool = False
    options: dict[str, Any] = field(default_factory=dict)  # an export's or inventory's choices

    def move(self, to: RunState, message: str | None = None) -> None:
        """Move the run to state ``to`` (with the page's ``message`` about it, when given)."""
        if to not in MOVES[self.state]:
            raise ValueError(f"a run cannot move from {self.state} to {to}")
        self.state = to
        if message is not None:
            self.message = message

    @property
    def active(self) -> bool:
        """True while queued or applying."""
        return self.state in ACTIVE

    @property
    def working(self) -> bool:
        """True while a job has (or will have) this run in hand."""
        return self.state in WORKING

    def stale(self, now: float | None = None, limit: float = STALE_SECONDS) -> bool:
        """True when a working run's job has not beaten for ``limit`` seconds (its worker was restarted or killed)."""
        return self.working and (now or time.time()) - self.heartbeat > limit


_COLUMNS = ("id", "kind", "org_id", "org_name", "filename", "uploaded_at", "created", "state", "heartbeat",
            "files_purged")


def _row(run: Run) -> dict[str, Any]:
    values = asdict(run)
    row = {k: values.pop(k) for k in _COLUMNS}
    row["user_name"] = values.pop("user")
    row["kind"], row["state"] = str(row["kind"]), str(row["state"])
    row["data"] = json.dumps(values, ensure_ascii=False)
    return row


def _run(row: Any) -> Run:
    data = json.loads(row.data)
    known = {f.name for f in fields(Run)}
    values = {k: v for k, v in data.items() if k in known}  # a column a later version added is ignored
    values.update({k: getattr(row, k) for k in _COLUMNS}, user=row.user_name)
    values["kind"], values["state"] = RunKind(values["kind"]), RunState(values["state"])
    return Run(**values)


def now_text() -> str:
    """The time now, as runs keep it (UTC, seconds)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class RunStore:
    """The runs, their files and journals, in the catalogue's database (``engine``)."""

    WORKBOOK = "workbook.xlsx"

    def __init__(self, engine: Engine, stale_after: float = STALE_SECONDS) -> None:
        self.engine = engine
        self.stale_after = stale_after  # seconds without a heartbeat before a job counts as dead
        self._local_locks: dict[str, threading.Lock] = {}

    # runs

    def create(self, org_id: str, org_name: str, user: str, filename: str, data: bytes | None, *,
               kind: RunKind = RunKind.EDIT, state: RunState = RunState.CHECKING, undo_of: str = "",
               options: dict[str, Any] | None = None) -> Run:
        """A new run (with the uploaded bytes as its workbook, for an edit)."""
        run = Run(secrets.token_hex(12), org_id, org_name, user, filename, now_text(), kind=kind, state=state,
                  undo_of=undo_of, heartbeat=time.time(), options=dict(options or {}))
        with self.engine.begin() as conn:
            conn.execute(insert(RUNS).values(**_row(run)))
            if data is not None:
                conn.execute(insert(FILES).values(run_id=run.id, name=self.WORKBOOK, content=data, size=len(data)))
        return run

    def save(self, run: Run) -> None:
        """Write the run's state (one statement: a page never reads half of it)."""
        with self.engine.begin() as conn:
            conn.execute(update(RUNS).where(RUNS.c.id == run.id).values(**_row(run)))

    def get(self, run_id: str) -> Run | None:
        """The run with this id (None when there is none, or the id is not one)."""
        if not run_id.isalnum():
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
        return _run(row) if row is not None else None

    def history(self, org_id: str, page: int = 1, per_page: int = PAGE_SIZE,
                kind: RunKind = RunKind.EDIT) -> tuple[list[Run], int]:
        """(one page of an organization's runs, newest first; how many there are): an indexed query."""
        where = and_(RUNS.c.org_id == org_id, RUNS.c.kind == str(kind))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(RUNS).where(where)).scalar_one()
            rows = conn.execute(select(RUNS).where(where).order_by(RUNS.c.created.desc())
                                .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
        return [_run(r) for r in rows], int(total)

    def stale_runs(self, limit: float) -> list[Run]:
        """Runs a job had in hand whose heartbeat stopped ``limit`` seconds ago or more."""
        cutoff = time.time() - limit
        with self.engine.connect() as conn:
            rows = conn.execute(select(RUNS).where(RUNS.c.state.in_([str(s) for s in WORKING]),
                                                   RUNS.c.heartbeat < cutoff)).all()
        return [_run(r) for r in rows]

    def beat(self, run: Run) -> None:
        """The job is alive: its heartbeat and progress, in one short statement."""
        run.heartbeat = time.time()
        self.save(run)

    def claim(self, run: Run, user: str) -> None:
        """Mark the run queued for ``user``; raise Busy, naming who holds it, when another apply of the
        organization (or this one) is under way. The database decides between processes asking at once."""
        under_way = self._active(run.org_id)
        if under_way is not None:
            raise Busy(self._busy(under_way, run))
        if RunState.QUEUED not in MOVES[run.state]:
            raise Busy(self._applied_already(run))
        claimed = replace(run, applied_by=user, applied_at=now_text(), heartbeat=time.time())
        claimed.move(RunState.QUEUED)
        try:
            with self.engine.begin() as conn:
                done = conn.execute(update(RUNS).where(RUNS.c.id == run.id, RUNS.c.state == str(RunState.CHECKED))
                                    .values(**_row(claimed))).rowcount
        except IntegrityError:  # another process claimed the organization between our look and our write
            under_way = self._active(run.org_id)
            raise Busy(self._busy(under_way, run) if under_way else "another apply has just started") from None
        if not done:  # another process moved it on since this one read it
            raise Busy(self._applied_already(run))
        run.move(RunState.QUEUED)
        run.applied_by, run.applied_at, run.heartbeat = claimed.applied_by, claimed.applied_at, claimed.heartbeat

    @staticmethod
    def _applied_already(run: Run) -> str:
        return f"'{run.filename}' was applied already; upload it again to apply it again"

    def _active(self, org_id: str) -> Run | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(RUNS).where(RUNS.c.org_id == org_id,
                                                  RUNS.c.state.in_([str(s) for s in ACTIVE]))).first()
        return _run(row) if row is not None else None

    def _busy(self, under_way: Run, run: Run) -> str:
        if under_way.id == run.id:
            return f"'{run.filename}' is already being applied (since {under_way.applied_at})"
        if under_way.stale(limit=self.stale_after):
            return (f"{under_way.applied_by}'s apply of '{under_way.filename}' stopped when its worker stopped; "
                    "open it from the history and press Resume, then apply this one")
        return (f"{under_way.applied_by} is applying '{under_way.filename}' to {run.org_name} "
                f"(since {under_way.applied_at}); wait until it has finished, then apply again")

    def requeue(self, run: Run) -> None:
        """A stale run given back to a job (its journal makes the rerun write nothing twice)."""
        if run.state is RunState.APPLYING:
            run.move(RunState.QUEUED)
        self.beat(run)

    # files

    def put(self, run: Run, name: str, data: bytes) -> None:
        """Keep a file of the run (replacing one of the same name)."""
        with self.engine.begin() as conn:
            conn.execute(delete(FILES).where(FILES.c.run_id == run.id, FILES.c.name == name))
            conn.execute(insert(FILES).values(run_id=run.id, name=name, content=data, size=len(data)))

    def read(self, run: Run, name: str) -> bytes | None:
        """A file of the run (None when it has none of that name)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(FILES.c.content).where(FILES.c.run_id == run.id, FILES.c.name == name)).first()
        return bytes(found[0]) if found is not None else None

    def names(self, run: Run) -> set[str]:
        """The names of the run's files."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(FILES.c.name).where(FILES.c.run_id == run.id))}

    def purge(self, older_than_days: float) -> int:
        """Remove the files and journals of runs older than this (their history rows stay); how many runs."""
        cutoff = time.time() - older_than_days * 86400
        with self.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(select(RUNS.c.id).where(RUNS.c.created < cutoff,
                                                                       RUNS.c.files_purged.is_(False)))]
            if ids:
                conn.execute(delete(FILES).where(FILES.c.run_id.in_(ids)))
                conn.execute(delete(JOURNAL).where(JOURNAL.c.run_id.in_(ids)))
                conn.execute(update(RUNS).where(RUNS.c.id.in_(ids)).values(files_purged=True))
        return len(ids)

    # the apply's journal, and one job per run

    def journal(self, run: Run) -> JournalRows:
        """The run's journal lines (journal.JournalLines), kept in the database."""
        return JournalRows(self.engine, run.id)

    @contextmanager
    def working_on(self, run: Run) -> Iterator[bool]:
        """True while this process alone works on the run (a PostgreSQL advisory lock, let go by the
        server when the worker dies, whatever pod it ran on); False when another job holds it."""
        if self.engine.dialect.name != "postgresql":  # SQLite (tests of the logic): one process
            lock = self._local_locks.setdefault(run.id, threading.Lock())
            got = lock.acquire(blocking=False)
            try:
                yield got
            finally:
                if got:
                    lock.release()
            return
        key = int(run.id[:15], 16)
        with self.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


class JournalRows:
    """A run's journal in ``bcdc_bulk_journal``: each line committed before apply goes on."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self.engine, self.run_id = engine, run_id

    def read(self) -> list[str]:
        """Every line, in the order written."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(JOURNAL.c.line).where(JOURNAL.c.run_id == self.run_id)
                                               .order_by(JOURNAL.c.seq))]

    def append(self, line: str) -> None:
        """Keep one line (committed)."""
        with self.engine.begin() as conn:
            conn.execute(insert(JOURNAL).values(run_id=self.run_id, line=line))
