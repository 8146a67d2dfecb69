"""Sending calls to the catalogue for a run: at most so many a second, retrying only what is safe to
retry (transient failures: connection, timeout, 429, 5xx), with backoff and jitter or the server's
Retry-After; a write whose outcome is unknown is read back before it is tried again, so nothing is
written twice."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bcdc_bulk.calls import Call
from bcdc_bulk.errors import CatalogueError, TransientError
from bcdc_bulk.local_files import LocalFiles
from bcdc_bulk.messages import Say, said

if TYPE_CHECKING:
    from bcdc_bulk.catalogue import Catalogue
    from bcdc_bulk.results import ApplySettings

SERVER_ERROR_TRIES = 2  # a 500: once more, in case it passes; a 500 again is the record's, not the network's


class RateLimiter:
    """At most ``rate`` call starts a second across all workers (0: no limit)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        """Block until the next call may start."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


class Sender:
    """Sends one call at a time for a run's workers: rate-limited, retrying transient failures only,
    reading back a write whose outcome is unknown before trying it again."""

    def __init__(self, catalogue: Catalogue, settings: ApplySettings, base: Path) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.base = base  # the workbook's folder: where a new resource's local file may be
        self.limiter = RateLimiter(settings.max_rate)
        self.stop = threading.Event()
        self.calls_made = 0
        self._count_lock = threading.Lock()

    def pause(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait before retry ``attempt``: what the server asked for, else exponential backoff with jitter."""
        delay = retry_after if retry_after is not None else (
            self.settings.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
        time.sleep(min(delay, 60.0))

    def send(self, call: Call, landed: Callable[[], bool]) -> tuple[Any, int]:
        """(answer, attempts). ``landed`` reads the record back, for a write whose outcome is unknown."""
        attempt = server_errors = 0
        while True:
            attempt += 1
            self.limiter.wait()
            try:
                with self._count_lock:
                    self.calls_made += 1
                files = None
                if call.upload:
                    files = {"upload": self.upload(call.upload).open("rb")}
                try:
                    return self.catalogue.call(call.action, files=files, **call.data), attempt
                finally:
                    if files:
                        files["upload"].close()
            except TransientError as exc:
                if exc.maybe_done and self._read_back(landed):
                    return None, attempt
                # a 500 that comes back on the same record is the record, not the network: tried once more only
                server_errors += exc.status == 500
                if attempt > self.settings.retries or server_errors >= SERVER_ERROR_TRIES or self.stop.is_set():
                    exc.attempts = attempt
                    raise
                self.pause(attempt, exc.retry_after)

    def upload(self, url: str) -> Path:
        """The local file a new resource's URL names, where this run may upload local files."""
        if not self.settings.local_files:  # validation refuses it first; this is the last line of defence
            raise CatalogueError(said(Say.NOT_UPLOADED_HERE, url=url[:80]))
        return LocalFiles(True, self.base).path(url)

    def read(self, fetch: Callable[[], Any]) -> Any:
        """A read, retried on transient failures (reads are always safe to repeat)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fetch()
            except TransientError as exc:
                if attempt > self.settings.retries:
                    raise
                self.pause(attempt, exc.retry_after)

    def _read_back(self, landed: Callable[[], bool]) -> bool:
        try:
            return bool(self.read(landed))
        except TransientError:
            return False  # unknown still: the retry that follows is read back again
