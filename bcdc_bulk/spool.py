"""A list of records kept on disk, not in memory: written once, read as many times as a workbook needs
(one pass a sheet), one record at a time. An inventory of a whole catalogue goes through here, so a
worker's memory does not grow with the catalogue."""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol


class Records(Protocol):
    """Records a workbook is written from: a list, or a Spool (counted, and read once a sheet)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


class Spool:
    """Records in an anonymous temporary file (gone when closed, or when the process ends)."""

    def __init__(self, records: Iterable[dict[str, Any]] = ()) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="bcdc-bulk-spool-")
        self._count = 0
        self.extend(records)

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        """Add records at the end."""
        self._file.seek(0, 2)
        for record in records:
            self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._file.flush()
        position = 0
        while True:  # by offset, so that two readings in turn do not move each other's place
            self._file.seek(position)
            line = self._file.readline()
            if not line:
                return
            position = self._file.tell()
            yield json.loads(line)

    def __bool__(self) -> bool:
        return self._count > 0

    def close(self) -> None:
        """Remove the file."""
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
