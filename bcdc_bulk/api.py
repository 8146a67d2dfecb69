"""The Python API: the whole round trip in a few calls. The command line is a shell over these.

    import bcdc_bulk as bb

    catalogue = bb.connect("prod", api_key=...)          # or a CKAN URL, or a catalogue file
    bb.export(catalogue, "my-org.xlsx", "my-organization")
    # ... people edit my-org.xlsx ...
    checked = bb.check("my-org.xlsx", catalogue)          # plan + problems, nothing written
    if checked.valid:
        result = bb.apply("my-org.xlsx", catalogue)       # only what changed; a row each in result.rows
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcdc_bulk.applying import apply_workbook
from bcdc_bulk.calls import REVISE, Call, plan_calls
from bcdc_bulk.catalogue import Catalogue, FileCatalogue, open_catalogue
from bcdc_bulk.export import ExportResult, export_workbook
from bcdc_bulk.fixing import Fix
from bcdc_bulk.inventory import InventoryResult, build_inventory
from bcdc_bulk.local_files import LocalFiles
from bcdc_bulk.plan import Plan
from bcdc_bulk.problems import Problem, ValidationReport
from bcdc_bulk.results import ApplyResult, ApplySettings, Preview
from bcdc_bulk.settings import resolve_remote
from bcdc_bulk.workbook_read import ReadWorkbook, read_workbook

Progress = Callable[[str, int], Callable[[int], None]]


def connect_as(user: str, site: str) -> Catalogue:
    """The CKAN this code runs inside (a CKAN extension), as one signed-in user: their roles decide
    what is read and written, and no API key is involved."""
    from bcdc_bulk.ckan_catalogue import local_catalogue

    return local_catalogue(user, site)


def report(result: ApplyResult, path: str | Path, workbook: str | Path | None = None) -> list[Path]:
    """Write a run's per-row report (xlsx, each row linked to its row in ``workbook``; with CSV and JSON
    lines beside it); returns the files written."""
    from bcdc_bulk.reporting import write_apply_report

    return write_apply_report(Path(path), [r.as_dict() for r in result.rows], result.counts,
                              Path(workbook) if workbook else None)


def connect(remote: str, api_key: str | None = None) -> Catalogue:
    """A catalogue to read and write: ``"prod"``, ``"test"``, a CKAN URL, or the path of a catalogue
    file (ckanapi dump format, read-only). The key is used for the calls only; it is never stored."""
    return open_catalogue(resolve_remote(str(remote)), api_key)


def export(catalogue: Catalogue, path: str | Path, organization: str | list[str], *, include_suborgs: bool = False,
           progress: Progress | None = None) -> ExportResult:
    """Write an organization's datasets and resources (several organizations' when given a list; with
    ``include_suborgs``, their sub-organizations' too) to a workbook people can edit."""
    return export_workbook(catalogue, Path(path), organization, include_suborgs, progress=progress)


def export_mine(catalogue: Catalogue, path: str | Path, *, state: str | None = None,
                progress: Progress | None = None) -> ExportResult:
    """Write every record the key's user may edit (the organizations where they are an editor or
    admin), only those in publish state ``state`` when given ('draft'), to a workbook that applies
    back as any export does."""
    from bcdc_bulk.export import export_mine as write_mine

    return write_mine(catalogue, Path(path), state, progress)


def template(path: str | Path, catalogue: Catalogue | None = None) -> ExportResult:
    """Write an empty workbook for new records (the schema and lists of ``catalogue``, else the built-in ones)."""
    return export_workbook(catalogue or FileCatalogue(None), Path(path), None)


def read(path: str | Path) -> ReadWorkbook:
    """Read an exported (and edited) workbook; raises WorkbookError, naming the cell, when it cannot."""
    return read_workbook(Path(path))


@dataclass
class Check:
    """What a workbook asks for and what is wrong with it: the plan, the problems, and whether it may be applied."""

    plan: Plan
    report: ValidationReport
    fingerprint: str = ""  # the workbook's snapshot checksum: which export this check is of
    current: dict[str, dict[str, Any]] = field(default_factory=dict)  # the changed records as the catalogue
    # held them at check time (by id), so a page shows what is there now, not what was exported

    @property
    def valid(self) -> bool:
        """True when no problem is an error (warnings do not stop anything)."""
        return self.report.valid

    @property
    def problems(self) -> list[Problem]:
        """Every problem, by sheet, row and column."""
        return self.report.problems

    def calls(self, method: str = REVISE) -> list[Call]:
        """The calls apply would send, records with errors left out (``method``: "revise" or "patch")."""
        return plan_calls(self.plan, method, skip=self.report.blocked_records())

    def plan_text(self, site: str = "", files: LocalFiles | None = None) -> list[str]:
        """The plan as a person reads it, a line each (what `bcdc-bulk plan` prints): each call with its
        changes field by field, what is not sent because of errors, and what is ignored."""
        from bcdc_bulk.reporting import plan_lines

        return plan_lines(self.plan, self.report, self.calls(), files, site=site)

    def page(self, site: str = "") -> dict[str, Any]:
        """The check as a page shows it (plain data, ready for JSON): problems by cell, and per dataset
        each change as the catalogue holds it now -> after, whether it is sent, and if not, why."""
        from bcdc_bulk.check_view import page_view

        return page_view(self, site)


def check(workbook: str | Path | ReadWorkbook, catalogue: Catalogue | None = None, *,
          local_files: bool = True) -> Check:
    """Plan and validate a workbook; with ``catalogue``, also the user's roles and the names and titles
    in use there, and datasets whose every change the catalogue already holds (a workbook applied
    before) leave the plan, with a note. Nothing is written. ``local_files=False`` (a server): a
    resource URL must be a web address, and no file named in the workbook is looked at."""
    from bcdc_bulk.rebasing import APPLIED_BEFORE_NOTE, applied_before, follow_own_writes, followed_notes
    from bcdc_bulk.settled import drop_settled
    from bcdc_bulk.validation import adopt_catalogue_words, check_site, validate_workbook

    book = workbook if isinstance(workbook, ReadWorkbook) else read(workbook)
    if catalogue is not None:
        check_site(book, catalogue.site)
        adopt_catalogue_words(book, catalogue)
        (plan, report), *followed = follow_own_writes(
            book, catalogue, lambda b: validate_workbook(b, catalogue, local_files))
        names = {package_id: str(pkg.get("name") or package_id) for package_id, pkg in book.snapshot.items()}
        report.notes.extend(followed_notes(*followed, names))
    else:
        plan, report = validate_workbook(book, catalogue, local_files)
        if applied_before(book):
            report.notes.append(APPLIED_BEFORE_NOTE)
    current: dict[str, dict[str, Any]] = {}
    if catalogue is not None:
        ids = [r.key for r in plan.records if r.action != "create"]
        current = catalogue.packages_by_id(ids) if ids else {}
        drop_settled(plan, report, catalogue, current)
    return Check(plan, report, book.fingerprint, current)


def apply(workbook: str | Path, catalogue: Catalogue, settings: ApplySettings | None = None, *,
          confirm: Callable[[Preview], bool] | None = None, progress: Progress | None = None,
          checked: Check | None = None) -> ApplyResult:
    """Validate the workbook and write only what changed, as the user of ``catalogue``; the result has one
    row per changed row (see ApplyResult), and names the undo workbook and the journal. With ``checked``
    (this workbook's check against this catalogue as this user, moments ago) it is not validated again;
    what changed in the catalogue since is still found, change by change, before anything is written."""
    if checked is not None:
        from bcdc_bulk.applying import apply_checked

        return apply_checked(Path(workbook), catalogue, settings or ApplySettings(), checked.plan, checked.report,
                             checked.fingerprint, confirm, progress)
    result, _ = apply_workbook(Path(workbook), catalogue, settings or ApplySettings(), confirm, progress)
    return result


def inventory(catalogue: Catalogue, path: str | Path, organizations: list[str] | None = None,
              progress: Progress | None = None) -> InventoryResult:
    """Write the auditor's inventory (Summary, Findings and the record sheets) of some organizations,
    or of the whole catalogue."""
    return build_inventory(catalogue, Path(path), organizations, progress)


def annotate(workbook: str | Path, target: str | Path, problems: list[Problem]) -> int:
    """Write a copy of the workbook with the problems marked and a Problems sheet in front; returns how
    many cells were marked. The workbook itself is never changed."""
    from bcdc_bulk.annotation import annotate_workbook

    return annotate_workbook(Path(workbook), Path(target), problems)


def fix(workbook: str | Path, target: str | Path) -> list[Fix]:
    """Write a copy of the workbook with every stored value today's schema refuses and whose fix is
    certain typed in ('CSV' -> 'csv', 'LOW-PUBLIC' -> 'Public'); returns the fixes, cell by cell. The
    workbook itself is never changed; nothing is guessed."""
    from bcdc_bulk.fixing import known_fixes, write_fixed

    fixes = known_fixes(read(workbook))
    write_fixed(Path(workbook), Path(target), fixes)
    return fixes


def frames(workbook: str | Path) -> dict[str, Any]:
    """The workbook's sheets as pandas DataFrames (an export, a template, an undo workbook or an
    inventory): one per record sheet and per table sheet (Findings, Members), with the workbook's
    column headers. Needs the optional extra: pip install 'bcdc-bulk[frames]'."""
    from bcdc_bulk.frames import workbook_frames

    return workbook_frames(Path(workbook))


__all__ = ["connect", "export", "export_mine", "template", "read", "check", "Check", "apply", "inventory",
           "annotate", "fix", "Fix", "frames",
           "ApplySettings", "ApplyResult", "ExportResult", "InventoryResult", "Problem"]
