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

from bcdc_bulk import __version__, api
from bcdc_bulk.catalogue import open_catalogue
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
                _fail(str(exc), exc.outcome or outcome)
            except click.UsageError:
                raise  # click says it and exits 2, as for any usage error
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
    resolved = resolve_remote(remote, current_env()) if remote else None
    key = resolve_api_key(apikey, resolved, current_env()) if resolved and not resolved.is_file else None
    return Settings(remote=resolved, api_key=key, quiet=bool(root.get("quiet")), debug=bool(root.get("debug")),
                    schema_path=root.get("schema_path"), presets=tuple(root.get("presets") or ()),
                    dataset_type=root.get("dataset_type"))


def _catalogue(settings: Settings) -> Any:
    """The catalogue -r names, with the schema --schema gives (else the catalogue's own)."""
    from bcdc_bulk.catalogue import FileCatalogue
    from bcdc_bulk.schema import schema_from_files

    schema = schema_from_files(settings.schema_path, settings.presets) if settings.schema_path else None
    if settings.remote is None:
        return FileCatalogue(None, given_schema=schema) if schema is not None else None
    return open_catalogue(settings.remote, settings.api_key, schema, settings.dataset_type)


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
@click.option("--schema", "schema_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The catalogue's scheming schema (YAML or JSON), to work with a catalogue file of another CKAN.")
@click.option("--presets", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A presets file the --schema uses (repeat for several).")
@click.option("--dataset-type", default=None, help="Which of the site's dataset types (default: its only one).")
def cli(debug: bool, quiet: bool, schema_path: Path | None, presets: tuple[Path, ...],
        dataset_type: str | None) -> None:
    """Edit BC Data Catalogue (CKAN) metadata in bulk through Excel workbooks.

    Typical use: export an organization, edit the workbook, validate it, apply it.
    """


@cli.command()
@remote_option
@click.option("--org", "orgs", multiple=True,
              help="Organization name, id or title; repeat for several in one workbook.")
@click.option("--mine", is_flag=True, help="Instead of --org: every record you may edit, in any organization.")
@click.option("--state", default=None, help="With --mine: only records in this state (e.g. draft).")
@click.option("--include-suborgs", is_flag=True, help="Also export their sub-organizations' records.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Workbook to write (.xlsx).")
@apikey_option
@click.pass_context
@handle_errors("No workbook was written.")
def export(ctx: click.Context, remote: str, orgs: tuple[str, ...], mine: bool, state: str | None,
           include_suborgs: bool, output: Path, apikey: str | None) -> None:
    """Write organizations' datasets and resources (or all you may edit) to a workbook to edit."""
    if bool(orgs) == mine:
        raise click.UsageError("give --org (one or more), or --mine")
    if state and not mine:
        raise click.UsageError("--state goes with --mine")
    settings = _settings(ctx, remote, apikey)
    assert settings.remote is not None
    catalogue = _catalogue(settings)
    result = (api.export_mine(catalogue, output, state=state, progress=_progress(settings)) if mine else
              api.export(catalogue, output, list(orgs), include_suborgs=include_suborgs, progress=_progress(settings)))
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
    settings = _settings(ctx, remote, apikey)
    api.template(output, _catalogue(settings))
    click.echo(f"Wrote an empty workbook to {output}")


@cli.command()
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The copy to write, with the fixes typed in (.xlsx).")
@click.pass_context
@handle_errors("No workbook was written.")
def fix(ctx: click.Context, workbook: Path, output: Path) -> None:
    """Type in the fixes that are certain (formats in capitals, retired choices) in a copy, to review and apply."""
    fixes = api.fix(workbook, output)
    for one in fixes:
        click.echo(str(one))
    if not fixes:
        click.echo(f"Nothing to fix with certainty; {output} is a copy of the workbook.")
        return
    click.echo(f"{len(fixes)} value{'s' * (len(fixes) != 1)} fixed in {output}. Look them over, then validate "
               f"and apply {output} like any edited workbook.")


def _checked(ctx: click.Context, workbook: Path, remote: str | None, apikey: str | None) -> tuple[Any, Any]:
    """Read the workbook and validate it (against the catalogue when -r is given)."""
    settings = _settings(ctx, remote, apikey)
    book = api.read(workbook)  # read first: a broken workbook is said before any call is made
    catalogue = _catalogue(settings) if settings.remote is not None else None
    checked = api.check(book, catalogue)
    return checked.plan, checked.report


plan_remote = click.option("-r", "--remote", "remote", default=None,
                           help="Check against this catalogue: your roles, names and titles in use (default: offline).")


@cli.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@plan_remote
@click.option("--annotate", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a copy of the workbook with the problems marked (never your file).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the problems to this .xlsx (and .csv / .jsonl beside it).")
@apikey_option
@click.pass_context
@handle_errors("Nothing was sent to the catalogue.")
def validate(ctx: click.Context, workbook: Path, remote: str | None, annotate: Path | None,
             report_path: Path | None, apikey: str | None) -> None:
    """Check the rows you changed against the catalogue's rules."""
    from bcdc_bulk.reporting import problem_lines, write_problem_report

    plan, report = _checked(ctx, workbook, remote, apikey)
    for line in problem_lines(report):
        click.echo(line)
    for note in report.notes:
        click.echo(f"Note: {note}")
    if annotate is not None:
        api.annotate(workbook, annotate, report.problems)
        click.echo(f"Marked the problems in {annotate}" if report.problems else
                   f"No problems to mark; {annotate} is a copy of the workbook with an empty Problems sheet")
    if report_path is not None:
        written = write_problem_report(report_path, report, workbook)
        click.echo(f"Wrote the problems to {', '.join(str(p) for p in written)}")
    records = len(plan.records)
    if not report.problems:
        click.echo(f"No problems in {records} changed record{'s' * (records != 1)}.")
        return
    before = sum(p.pre_existing for p in report.errors)
    click.echo(f"{len(report.errors)} error{'s' * (len(report.errors) != 1)}"
               f"{f' ({before} of them already in the records before your edit)' if before else ''} and "
               f"{len(report.warnings)} "
               f"warning{'s' * (len(report.warnings) != 1)} in {records} changed record{'s' * (records != 1)}. "
               "Nothing was sent to the catalogue.")
    if not report.valid:
        sys.exit(EXIT_ROWS)


@cli.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@plan_remote
@click.option("--json", "as_json", is_flag=True, help="Print the calls as JSON.")
@click.option("--method", type=click.Choice(["revise", "patch"]), default="revise", show_default=True,
              help="revise: one package_revise per dataset (its fields and its resources' together); "
                   "patch: package_patch + one resource_patch per resource.")
@apikey_option
@click.pass_context
@handle_errors("Nothing was sent to the catalogue.")
def plan(ctx: click.Context, workbook: Path, remote: str | None, as_json: bool, method: str,
         apikey: str | None) -> None:
    """Show exactly what apply would send: the calls, field by field."""
    from bcdc_bulk.calls import plan_calls

    the_plan, report = _checked(ctx, workbook, remote, apikey)
    blocked = report.blocked_records()
    calls = plan_calls(the_plan, method, skip=blocked)
    errors = report.errors
    if as_json:
        click.echo(json.dumps({
            "calls": [c.as_dict() for c in calls],
            "invalid": sorted(blocked),
            "problems": [p.as_dict() for p in report.problems],
            "ignored": [n.__dict__ for n in the_plan.ignored],
        }, ensure_ascii=False, indent=2, default=str))
        if errors:
            sys.exit(EXIT_ROWS)
        return
    from bcdc_bulk.local_files import LocalFiles
    from bcdc_bulk.reporting import plan_lines

    for note in report.notes:
        click.echo(f"Note: {note}")
    for line in plan_lines(the_plan, report, calls, LocalFiles(True, workbook.parent)):
        click.echo(line)
    if errors:
        sys.exit(EXIT_ROWS)


@cli.command()
@remote_option
@click.option("--org", "orgs", multiple=True, help="Organization name, id or title; repeat for several "
                                                   "(default: the whole catalogue).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Workbook to write (.xlsx).")
@apikey_option
@click.pass_context
@handle_errors("No workbook was written.")
def inventory(ctx: click.Context, remote: str, orgs: tuple[str, ...], output: Path, apikey: str | None) -> None:
    """An auditor's workbook: every record, a Summary with charts, and Findings."""

    settings = _settings(ctx, remote, apikey)
    assert settings.remote is not None
    catalogue = _catalogue(settings)
    result = api.inventory(catalogue, output, list(orgs) or None, progress=_progress(settings))
    scope = ", ".join(result.organizations) or "the whole catalogue"
    click.echo(f"Inventory of {scope}: {result.packages} datasets, {result.resources} resources, "
               f"{result.findings} findings ({result.records_with_errors} datasets the catalogue would refuse to "
               f"save as they are) in {result.path}")


@cli.command()
@click.argument("workbook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-r", "--remote", "remote", required=True, help="prod, test or a CKAN URL to write to.")
@click.option("--dry-run", is_flag=True, help="Do everything but write: validate, check for conflicts, report.")
@click.option("--workers", type=click.IntRange(1, 32), default=4, show_default=True, help="Calls at once.")
@click.option("--rate", type=float, default=0.0, help="At most this many calls a second (default: no limit).")
@click.option("--method", type=click.Choice(["revise", "patch"]), default="revise", show_default=True,
              help="revise: one package_revise per dataset; patch: package_patch + resource_patch.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Per-row report (.xlsx, with .csv and .jsonl beside it); default: <workbook>.report.xlsx.")
@click.option("--yes", is_flag=True, help="Do not ask before writing to prod.")
@apikey_option
@click.pass_context
@handle_errors("Nothing was sent to the catalogue.")
def apply(ctx: click.Context, workbook: Path, remote: str, dry_run: bool, workers: int, rate: float, method: str,
          report_path: Path | None, yes: bool, apikey: str | None) -> None:
    """Write the workbook's changes to the catalogue and report every row."""
    from bcdc_bulk.errors import ConfigError
    from bcdc_bulk.reporting import write_apply_report
    from bcdc_bulk.results import NOT_DONE, Preview

    settings = _settings(ctx, remote, apikey)
    assert settings.remote is not None
    if settings.remote.is_file:
        raise ConfigError("apply writes to a live catalogue: give -r prod, test or a CKAN URL, not a file")
    catalogue = _catalogue(settings)

    def confirm(preview: Preview) -> bool:
        # any address of the production catalogue asks, however it was written
        name = "prod" if settings.remote and settings.remote.is_production else ""
        return confirm_prod(preview, name, yes, sys.stdin.isatty())

    run = api.ApplySettings(method=method, workers=workers, max_rate=rate, dry_run=dry_run)
    result = api.apply(workbook, catalogue, run, confirm=confirm, progress=_progress(settings))
    # a dry run writes its own report, never over a real run's (it writes no journal and no undo workbook)
    report_path = report_path or workbook.with_name(workbook.stem + (".dry-run" if dry_run else "") + ".report.xlsx")
    counts = ", ".join(f"{n} {s}" for s, n in result.counts.items() if n)
    try:
        written = write_apply_report(report_path, [r.as_dict() for r in result.rows], result.counts, workbook)
    except OSError as exc:  # the writes are done: say so, and where they are listed
        error = BulkError(f"the report could not be written to {report_path} ({exc.strerror or exc})")
        error.outcome = (f"The run itself finished ({counts or 'no changes'}); every call it made is listed in "
                         f"{result.journal}.")
        raise error from None
    for row in result.rows:
        if row.status in NOT_DONE:
            where = f"{row.sheet} row {row.row}" if row.row else row.sheet
            click.echo(f"{row.status:<9} {where:<14} {row.dataset}: {row.message}")
    prefix = "Dry run, nothing written: " if dry_run else ("Stopped: " if result.interrupted else "")
    click.echo(f"{prefix}{counts or 'no changes'}. Report: {written[0]}")
    if result.undo:
        click.echo(f"To undo: bcdc-bulk apply {result.undo} -r {remote}")
    if not result.complete:
        sys.exit(EXIT_ROWS)


def confirm_prod(preview: Any, remote_name: str, yes: bool, interactive: bool) -> bool:
    """Before writing to prod, show the counts and ask; with no terminal to ask on, stop."""
    from bcdc_bulk.errors import ConfigError

    if preview.dry_run or yes or remote_name != "prod":
        return True
    question = (f"Write {preview.records} dataset{'s' * (preview.records != 1)} ({preview.calls} "
                f"call{'s' * (preview.calls != 1)}) to {preview.site}? {preview.invalid} with errors will not be sent.")
    if not interactive:
        raise ConfigError(f"not writing to prod without a yes. {question} Run it in a terminal to answer, "
                          "or add --yes")
    return click.confirm(question, default=False)


def main() -> None:
    """Console entry point."""
    cli(prog_name="bcdc-bulk")


if __name__ == "__main__":
    main()
