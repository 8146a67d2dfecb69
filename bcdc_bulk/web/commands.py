"""``ckan bcdc-bulk ...``: the extension's commands for a site's administrators (cron or by hand)."""
from __future__ import annotations

import click


@click.group("bcdc-bulk", short_help="bcdc-bulk: purge old runs' files, resume stopped jobs")
def bcdc_bulk_group() -> None:
    """The bcdc-bulk extension's upkeep."""


@bcdc_bulk_group.command()
@click.option("--days", type=float, default=None, help="Older than this many days (default: bcdc_bulk.keep_days, 365).")
def purge(days: float | None) -> None:
    """Remove the files of runs older than bcdc_bulk.keep_days (the history rows stay)."""
    from bcdc_bulk.web.jobs import ckan_store
    from bcdc_bulk.web.settings import options

    removed = ckan_store().purge(days if days is not None else options().keep_days)
    click.echo(f"Removed the files of {removed} run{'s' * (removed != 1)}; their history stays.")


@bcdc_bulk_group.command()
def sweep() -> None:
    """Hand every job whose worker died (no heartbeat) to the job queue again."""
    from bcdc_bulk.web.jobs import ckan_store, enqueue
    from bcdc_bulk.web.jobs import sweep as sweep_runs
    from bcdc_bulk.web.settings import options

    given = sweep_runs(ckan_store(), options().stale_after, enqueue)
    click.echo(f"{len(given)} stopped run{'s' * (len(given) != 1)} handed to the job queue again.")
