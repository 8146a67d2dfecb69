"""The extension's settings, from CKAN's configuration (ckan.ini), read when asked (never at import)."""
from __future__ import annotations

from dataclasses import dataclass

from bcdc_bulk.web.runs import STALE_SECONDS
from bcdc_bulk.web.uploads import MB, Limits


@dataclass(frozen=True)
class Options:
    """bcdc_bulk.* settings: upload limits, apply concurrency and rate, when a job counts as dead,
    how long runs keep their files, and how large an organization is exported inside the request."""

    limits: Limits
    workers: int
    rate: float
    stale_after: float  # seconds without a heartbeat before a job is handed to another worker
    keep_days: float  # a run's files are removed by `ckan bcdc-bulk purge` after this many days
    inline_datasets: int  # an organization with more datasets is exported by a job


def options() -> Options:
    """The settings, from CKAN's config."""
    from ckan.plugins import toolkit

    config = toolkit.config
    max_mb = float(config.get("bcdc_bulk.max_upload_mb") or 20)
    return Options(Limits(int(max_mb * MB), int(max_mb * MB * 20)),
                   int(config.get("bcdc_bulk.workers") or 4), float(config.get("bcdc_bulk.rate") or 0),
                   float(config.get("bcdc_bulk.stale_seconds") or STALE_SECONDS),
                   float(config.get("bcdc_bulk.keep_days") or 365),
                   int(config.get("bcdc_bulk.inline_datasets") or 200))
