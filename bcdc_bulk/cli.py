"""The bcdc-bulk command line: each command builds settings, calls one library
function, renders the result and exits. The only module that imports click."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bcdc_bulk import __version__
from bcdc_bulk.catalogue import FileCatalogue, open_catalogue
from bcdc_bulk.errors import BulkError
from bcdc_bulk.settings import Settings, current_env, resolve_api_key, resolve_remote

EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_ROWS = 0, 1, 2, 3


def _fail(message: str, outcome: str = "") -> None:
    if outcome:
        message = (message if message.endswith((".", "?", "!")) else message + ".") + " " + outcome
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_FATAL)


def handle_errors(outcome: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn library errors into one clear line and exit 1 (a traceback only with --debug).

    ``outcome`` tells the user what a failed run left behind, e.g. "No workbook was written."
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            debug = bool(click.get_current_context().find_root().params.get("debug"))
            try:
                return func(*args, **kwargs)
            except BulkError as exc:
                if debug:
                    raise
                _fail(str(exc), outcome)
            except KeyboardInterrupt:
                _fail("interrupted", outcome)
            except Exception as exc:  # unexpected: still no traceback unless asked
                if debug:
                    raise
                _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)", outcome)

        return wrapper

    return decorate


def _settings(ctx: click.Context, remote: str | None, apikey: str | None) -> Settings:
    root = ctx.find_root().params
    resolved = resolve_remote(remote) if remote else None
    key = resolve_api_key(apikey, resolved, current_env()) if resolved and not resolved.is_file else None
    return Settings(remote=resolved, api_key=key, quiet=bool(root.get("quiet")), debug=bool(root.get("debug")))


def _progress(settings: Settings) -> Callable[[str, int], Callable[[int], None]] | None:
    if settings.quiet:
        return None
    from tqdm import tqdm

    def factory(label: str, total: int) -> Callable[[int], None]:
        bar = tqdm(total=total or None, desc=label, unit="record", leave=False, file=sys.stderr,
                   disable=not sys.stderr.isatty())
        return bar.update

    return factory


remote_option = click.option("-r", "--remote", "remote", required=True,
                             help="prod, test, a CKAN URL, or the path of a catalogue file (ckanapi dump).")
apikey_option = click.option("--apikey", envvar=None, default=None,
                             help="API key (else BCDC_API_KEY, CKAN_API_KEY or the config file). Never printed.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bcdc-bulk")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (for scripts).")
def cli(debug: bool, quiet: bool) -> None:
    """Edit BC Data Catalogue (CKAN) metadata in bulk through Excel workbooks.

    Typical use: export an organization, edit the workbook, validate it, apply it.
    """


@cli.command()
@remote_option
@click.option("--org", required=True, help="Organization name, id or title.")
@click.option("--include-suborgs", is_flag=True, help="Also export its sub-organizations' records.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Workbook to write (.xlsx).")
@apikey_option
@click.pass_context
@handle_errors("No workbook was written.")
def export(ctx: click.Context, remote: str, org: str, include_suborgs: bool, output: Path,
           apikey: str | None) -> None:
    """Write an organization's datasets and resources to a workbook to edit."""
    from bcdc_bulk.export import export_workbook

    settings = _settings(ctx, remote, apikey)
    assert settings.remote is not None
    catalogue = open_catalogue(settings.remote, settings.api_key)
    result = export_workbook(catalogue, output, org, include_suborgs, progress=_progress(settings))
    click.echo(f"Exported {result.packages} datasets and {result.resources} resources "
               f"({', '.join(result.organizations)}) to {result.path}")


@cli.command()
@click.option("-r", "--remote", "remote", default=None,
              help="Take the schema, licences and organizations from this catalogue (default: built in).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@apikey_option
@click.pass_context
@handle_errors("No workbook was written.")
def template(ctx: click.Context, remote: str | None, output: Path, apikey: str | None) -> None:
    """Write an empty workbook, for adding new records."""
    from bcdc_bulk.export import export_workbook

    settings = _settings(ctx, remote, apikey)
    catalogue = open_catalogue(settings.remote, settings.api_key) if settings.remote else FileCatalogue(None)
    export_workbook(catalogue, output, None)
    click.echo(f"Wrote an empty workbook to {output}")


@cli.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-r", "--remote", "remote", default=None, help="Catalogue to plan against (default: offline).")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
@handle_errors("Nothing was sent to the catalogue.")
def plan(ctx: click.Context, workbook: Path, remote: str | None, as_json: bool) -> None:
    """Show what changed in a workbook since it was exported."""
    from bcdc_bulk.planning import find_changes
    from bcdc_bulk.workbook_read import read_workbook

    diff = find_changes(read_workbook(workbook))
    if as_json:
        click.echo(json.dumps({
            "changes": [c.__dict__ for c in diff.changes],
            "new_rows": [{"sheet": s, "row": r} for s, r in diff.new_rows],
            "unknown_rows": [{"sheet": s, "row": r, "key": k} for s, r, k in diff.unknown_rows],
        }, ensure_ascii=False, indent=2))
        return
    if not diff.changes and not diff.new_rows and not diff.unknown_rows:
        click.echo("No changes.")
        return
    for c in diff.changes:
        click.echo(f"{c.sheet}!{c.column}{c.row} {c.field}: {c.old!r} -> {c.new!r}")
    for sheet, row in diff.new_rows:
        click.echo(f"{sheet} row {row}: new record")
    for sheet, row, key in diff.unknown_rows:
        click.echo(f"{sheet} row {row}: '{key}' is not a record of this export")
    click.echo(f"{len(diff.changes)} changed cells in {len(diff.changed_records)} records, "
               f"{len(diff.new_rows)} new rows, {len(diff.unknown_rows)} unknown rows.")


def _not_yet(name: str) -> None:
    _fail(f"'{name}' is not available in bcdc-bulk {__version__} yet; nothing was read or written")


@cli.command()
@click.option("-r", "--remote", "remote")
@click.option("--org", multiple=True)
@click.option("-o", "--output")
def inventory(**_: Any) -> None:
    """Auditor's read-only workbook with summary and findings (not available yet)."""
    _not_yet("inventory")


@cli.command()
@click.argument("workbook")
@click.option("-r", "--remote")
def validate(**_: Any) -> None:
    """Check an edited workbook against the catalogue's rules (not available yet)."""
    _not_yet("validate")


@cli.command()
@click.argument("workbook")
@click.option("-r", "--remote")
def apply(**_: Any) -> None:
    """Write a workbook's changes to the catalogue (not available yet)."""
    _not_yet("apply")


def main() -> None:
    """Console entry point."""
    cli(prog_name="bcdc-bulk")


if __name__ == "__main__":
    main()
