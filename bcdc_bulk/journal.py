"""The journal of a run: every call's outcome, kept durably as it happens, so a rerun (or a check after
one) knows what this workbook wrote: what it created, and each record's modified time after its last
write. Kept in a file beside the workbook (the command line) or in the catalogue's database (the
web extension, whose workers share no disk)."""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from bcdc_bulk.results import APPLIED, CREATED, REMOVED


class JournalLines(Protocol):
    """Where a journal's lines are kept: a file beside the workbook (the command line), or a table
    of the catalogue's database (the web extension, whose workers share no disk)."""

    def read(self) -> list[str]:
        """Every line written so far (a resumed run reads what the killed one wrote)."""

    def append(self, line: str) -> None:
        """Keep one more line, durably, before returning."""


class FileLines:
    """Journal lines in a file, appended and fsync'd (they must survive the process being killed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[str]:
        """The file's lines (none when it does not exist yet)."""
        return self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []

    def append(self, line: str) -> None:
        """Append one line and fsync it."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def journal_beside(workbook: Path) -> Path:
    """Where apply keeps a workbook's journal by default (and a later check looks for it)."""
    return workbook.with_name(workbook.stem + ".journal.jsonl")


class Journal:
    """Every call's outcome, kept as it happens (JSON lines)."""

    def __init__(self, lines: JournalLines, workbook_id: str) -> None:
        self.lines = lines
        self.workbook_id = workbook_id
        self._lock = threading.Lock()
        self.created: dict[str, str] = {}  # record key -> id of what an earlier run created
        self.written: dict[str, str] = {}  # record id -> the record's modified time after this workbook's last write
        for line in lines.read():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: the server is asked instead
            if entry.get("workbook") != workbook_id or not entry.get("id"):
                continue
            if entry.get("status") == CREATED:
                self.created[entry["record"]] = entry["id"]
            if entry.get("status") in (APPLIED, REMOVED, CREATED):
                # the last write decides; one that returned no record (a resource call) leaves it unknown
                self.written[entry["id"]] = entry.get("modified") or ""

    def write(self, **entry: Any) -> None:
        """Keep one outcome (durably: it must survive the process being killed)."""
        entry = dict(entry, workbook=self.workbook_id, time=dt.datetime.now(dt.timezone.utc).isoformat())
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock:
            self.lines.append(line)
