"""The pages of the web extension: a thin shell over the library API and the run store. Errors of
the library become messages on the page; who may see what is decided here, once per request."""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, send_file

import bcdc_bulk as bb
from bcdc_bulk.catalogue import LocalCatalogue
from bcdc_bulk.errors import BulkError
from bcdc_bulk.web import jobs
from bcdc_bulk.web.runs import STALE_SECONDS, Busy, Run, RunState, RunStore
from bcdc_bulk.web.uploads import MB, Limits, check_upload

bulk = Blueprint("bcdc_bulk", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {"workbook": ("workbook.xlsx", XLSX), "annotated": (jobs.ANNOTATED, XLSX),
             "report": (jobs.REPORT, XLSX), "undo": (jobs.UNDO, XLSX), "plan": (jobs.PLAN_TEXT, "text/plain")}


@dataclass(frozen=True)
class Options:
    """The extension's settings (ckan.ini), read once when CKAN starts."""

    storage: Path
    limits: Limits
    workers: int
    rate: float
    stale_after: float  # seconds without a heartbeat before an apply is started again


def options() -> Options:
    """The settings, from CKAN's config."""
    from ckan.plugins import toolkit

    config = toolkit.config
    storage = config.get("bcdc_bulk.storage_path") or str(Path(config.get("ckan.storage_path") or
                                                               tempfile.gettempdir()) / "bcdc_bulk")
    max_mb = float(config.get("bcdc_bulk.max_upload_mb") or 20)
    return Options(Path(storage), Limits(int(max_mb * MB), int(max_mb * MB * 20)),
                   int(config.get("bcdc_bulk.workers") or 4), float(config.get("bcdc_bulk.rate") or 0),
                   float(config.get("bcdc_bulk.stale_seconds") or STALE_SECONDS))


# --- who may do what --------------------------------------------------------------------------

class Access:
    """The signed-in user and what they may do in one organization."""

    def __init__(self, org_ref: str) -> None:
        from ckan import authz
        from ckan.plugins import toolkit

        user = toolkit.current_user
        if not getattr(user, "is_authenticated", False):
            raise _Login()
        self.user: str = user.name
        try:
            self.org = toolkit.get_action("organization_show")(
                {"user": self.user}, {"id": org_ref, "include_datasets": False, "include_users": False})
        except (toolkit.ObjectNotFound, toolkit.NotAuthorized):
            toolkit.abort(404, "No such organization")
        self.sysadmin = authz.is_sysadmin(self.user)
        role = authz.users_role_for_group_or_org(self.org["id"], self.user)
        self.admin = self.sysadmin or role == "admin"
        if not (self.sysadmin or authz.has_user_permission_for_group_or_org(self.org["id"], self.user,
                                                                            "create_dataset")):
            toolkit.abort(403, "Only editors and admins of this organization may edit its records in bulk.")

    def catalogue(self) -> LocalCatalogue:
        """The catalogue as this user sees it."""
        from ckan.plugins import toolkit

        return LocalCatalogue(self.user, toolkit.config.get("ckan.site_url"))


class _Login(Exception):
    """The page needs a signed-in user."""


@bulk.before_request
def _csrf() -> None:
    """Every form here carries CKAN's CSRF token, and a post without it is refused (400), even on sites
    that leave extensions out of CKAN's own check (ckan.csrf_protection.ignore_extensions)."""
    from flask import current_app

    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()


@bulk.errorhandler(_Login)
def _to_login(_: Exception) -> Any:
    from ckan.plugins import toolkit

    return toolkit.redirect_to("user.login", came_from=request.full_path)


def _render(template: str, access: Access, **extra: Any) -> Any:
    from ckan.plugins import toolkit

    return toolkit.render(template, {"group_dict": access.org, "group_type": "organization", "access": access,
                                     "am_following": False, **extra})


def _run_of(access: Access, store: RunStore, run_id: str) -> Run:
    from ckan.plugins import toolkit

    run = store.get(run_id)
    if run is None or run.org_id != access.org["id"]:
        toolkit.abort(404, "No such upload")
    return run  # type: ignore[return-value]


# --- pages --------------------------------------------------------------------------------------

@bulk.route("/organization/<org>/bulk")
def page(org: str) -> Any:
    """The organization's bulk-editing page: download, upload, history."""
    access = Access(org)
    store = RunStore(options().storage)
    return _render("bcdc_bulk/org.html", access, runs=store.history(access.org["id"]),
                   max_mb=options().limits.max_bytes / MB)


@bulk.route("/organization/<org>/bulk/download")
def download(org: str) -> Any:
    """The organization's records as the same workbook `bcdc-bulk export` writes."""
    access = Access(org)
    folder = Path(tempfile.mkdtemp(prefix="bcdc-bulk-"))
    path = folder / f"{access.org['name']}.xlsx"
    bb.export(access.catalogue(), path, access.org["name"], include_suborgs=request.args.get("suborgs") == "on")
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=path.name)


@bulk.route("/organization/<org>/bulk/upload", methods=["POST"])
def upload(org: str) -> Any:
    """Keep the uploaded workbook as a run, check it, and show the check."""
    from ckan.plugins import toolkit

    access = Access(org)
    opts = options()
    sent = request.files.get("workbook")
    if sent is None or not sent.filename:
        toolkit.h.flash_error("Choose the workbook you edited, then press Upload.")
        return toolkit.redirect_to("bcdc_bulk.page", org=access.org["name"])
    data = sent.stream.read(opts.limits.max_bytes + 1)
    try:
        check_upload(sent.filename, data, opts.limits)
        run = RunStore(opts.storage).create(access.org["id"], access.org["name"], access.user, sent.filename, data)
        jobs.check_run(RunStore(opts.storage), run, access.catalogue())
    except BulkError as exc:
        toolkit.h.flash_error(f"The workbook was not taken: {exc}")
        return toolkit.redirect_to("bcdc_bulk.page", org=access.org["name"])
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=run.id)


@bulk.route("/organization/<org>/bulk/<run_id>")
def run(org: str, run_id: str) -> Any:
    """One upload: its check and plan, its progress while applying, its report when done."""
    access = Access(org)
    store = RunStore(options().storage)
    found = _resumed(_run_of(access, store, run_id), store)
    page_json = store.file(found, jobs.PAGE_JSON)
    view = json.loads(page_json.read_text(encoding="utf-8")) if page_json.exists() else {}
    report = _report_rows(store, found) if found.state in (RunState.DONE, RunState.FAILED) else []
    return _render("bcdc_bulk/run.html", access, run=found, view=view, report=report,
                   has={k: store.file(found, name).exists() for k, (name, _) in DOWNLOADS.items()})


@bulk.route("/organization/<org>/bulk/<run_id>/status")
def status(org: str, run_id: str) -> Any:
    """Where an apply stands, for the progress bar (JSON)."""
    access = Access(org)
    store = RunStore(options().storage)
    found = _resumed(_run_of(access, store, run_id), store)
    return jsonify(state=str(found.state), progress=found.progress, counts=found.counts)


@bulk.route("/organization/<org>/bulk/<run_id>/apply", methods=["POST"])
def apply(org: str, run_id: str) -> Any:
    """Queue the run's apply as the signed-in user (one apply per organization at a time)."""
    from ckan.plugins import toolkit

    access = Access(org)
    store = RunStore(options().storage)
    found = _run_of(access, store, run_id)
    if found.state is not RunState.CHECKED:
        toolkit.h.flash_error("This workbook was applied already; upload it again to apply it again.")
    else:
        try:
            store.claim(found, access.user, options().stale_after)
            _enqueue(found)
        except Busy as exc:
            toolkit.h.flash_error(f"Not applied: {exc}.")
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=found.id)


@bulk.route("/organization/<org>/bulk/<run_id>/undo", methods=["POST"])
def undo(org: str, run_id: str) -> Any:
    """An admin's undo: the run's undo workbook, checked as a new upload (applied from its page)."""
    from ckan.plugins import toolkit

    access = Access(org)
    if not access.admin:
        toolkit.abort(403, "Only admins of this organization may undo a run.")
    store = RunStore(options().storage)
    found = _run_of(access, store, run_id)
    undo_file = store.file(found, jobs.UNDO)
    if not undo_file.exists():
        toolkit.abort(404, "This run has no undo workbook")
    new = store.create(found.org_id, found.org_name, access.user, f"undo of {found.filename}",
                       undo_file.read_bytes(), undo_of=found.id)
    try:
        jobs.check_run(store, new, access.catalogue())
    except BulkError as exc:
        toolkit.h.flash_error(f"The undo workbook could not be checked: {exc}")
        return toolkit.redirect_to("bcdc_bulk.page", org=access.org["name"])
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=new.id)


@bulk.route("/organization/<org>/bulk/<run_id>/<kind>")
def file(org: str, run_id: str, kind: str) -> Any:
    """A file of the run: the workbook, the annotated copy, the plan, the report, the undo workbook."""
    from ckan.plugins import toolkit

    access = Access(org)
    store = RunStore(options().storage)
    found = _run_of(access, store, run_id)
    if kind not in DOWNLOADS or not store.file(found, DOWNLOADS[kind][0]).exists():
        toolkit.abort(404, "No such file")
    name, mimetype = DOWNLOADS[kind]
    stem = Path(found.filename).stem
    return send_file(store.file(found, name), mimetype=mimetype, as_attachment=True,
                     download_name=f"{stem}.{kind}{Path(name).suffix}")


@bulk.route("/organization/<org>/bulk/inventory")
def org_inventory(org: str) -> Any:
    """The auditor's inventory of this organization (its admins and sysadmins)."""
    from ckan.plugins import toolkit

    access = Access(org)
    if not access.admin:
        toolkit.abort(403, "Only admins of this organization may download its inventory.")
    return _inventory(access.catalogue(), [access.org["name"]], f"{access.org['name']}-inventory.xlsx")


@bulk.route("/ckan-admin/bulk/inventory")
def site_inventory() -> Any:
    """The whole catalogue's inventory (sysadmins)."""
    from ckan import authz
    from ckan.plugins import toolkit

    user = toolkit.current_user
    if not getattr(user, "is_authenticated", False):
        raise _Login()
    if not authz.is_sysadmin(user.name):
        toolkit.abort(403, "Only sysadmins may download the whole catalogue's inventory.")
    return _inventory(LocalCatalogue(user.name, toolkit.config.get("ckan.site_url")), None, "catalogue-inventory.xlsx")


def _inventory(catalogue: LocalCatalogue, orgs: list[str] | None, name: str) -> Any:
    path = Path(tempfile.mkdtemp(prefix="bcdc-bulk-")) / name
    bb.inventory(catalogue, path, orgs)
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=name)


def _report_rows(store: RunStore, found: Run) -> list[dict[str, Any]]:
    path = store.file(found, jobs.REPORT).with_suffix(".jsonl")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _resumed(found: Run, store: RunStore) -> Run:
    """An apply whose worker died (restarted, killed) is queued again when its page is looked at;
    its journal keeps every change to one write."""
    if found.stale(limit=options().stale_after):
        store.requeue(found)
        _enqueue(found)
    return found


def _enqueue(found: Run) -> None:
    from ckan.plugins import toolkit

    opts = options()
    toolkit.enqueue_job(jobs.apply_run, [found.id, str(opts.storage), toolkit.config.get("ckan.site_url"),
                                         opts.workers, opts.rate],
                        title=f"bcdc-bulk apply {found.filename} to {found.org_name}", rq_kwargs={"timeout": 3600})
