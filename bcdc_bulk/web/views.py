"""The pages of the web extension: a thin shell over the library API, the run store and the job queue.
A page request does about a second of work at most: uploads are kept and handed to a job, checks,
applies, inventories and large exports run in CKAN's job workers, and no page view starts a job (only
a POST does). Who may see what is decided by access.py, once per request."""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, send_file

import bcdc_bulk as bb
from bcdc_bulk.errors import BulkError
from bcdc_bulk.web import jobs
from bcdc_bulk.web.access import Login, OrgPage, signed_in
from bcdc_bulk.web.runs import PAGE_SIZE, Busy, Run, RunKind, RunState, RunStore
from bcdc_bulk.web.settings import options
from bcdc_bulk.web.uploads import MB, check_upload

bulk = Blueprint("bcdc_bulk", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {"workbook": (RunStore.WORKBOOK, XLSX), "annotated": (jobs.ANNOTATED, XLSX),
             "report": (jobs.REPORT, XLSX), "undo": (jobs.UNDO, XLSX), "plan": (jobs.PLAN_TEXT, "text/plain"),
             "result": (jobs.RESULT, XLSX)}
SITE = ""  # the org_id of runs about the whole catalogue (its inventory)


@bulk.before_request
def _csrf() -> None:
    """Every form here carries CKAN's CSRF token, and a post without it is refused (400), even on sites
    that leave extensions out of CKAN's own check (ckan.csrf_protection.ignore_extensions)."""
    from flask import current_app

    if request.method not in ("GET", "HEAD", "OPTIONS"):
        current_app.extensions["csrf"].protect()


@bulk.errorhandler(Login)
def _to_login(_: Exception) -> Any:
    from ckan.plugins import toolkit

    return toolkit.redirect_to("user.login", came_from=request.full_path)


def _render(template: str, access: OrgPage, **extra: Any) -> Any:
    from ckan.plugins import toolkit

    group = toolkit.get_action("organization_show")(
        {"user": access.user}, {"id": access.org["id"], "include_datasets": False, "include_users": False})
    return toolkit.render(template, {"group_dict": group, "group_type": "organization", "access": access,
                                     "am_following": False, **extra})


def _run_of(access: OrgPage, store: RunStore, run_id: str) -> Run:
    """The run, when it is this organization's (another organization's run is not found, as none is)."""
    from ckan.plugins import toolkit

    run = store.get(run_id)
    if run is None or run.org_id != access.org["id"]:
        toolkit.abort(404, "No such upload")
    return run  # type: ignore[return-value]


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


# --- pages --------------------------------------------------------------------------------------

@bulk.route("/organization/<org>/bulk")
def page(org: str) -> Any:
    """The organization's bulk-editing page: download, upload, inventory, history (paginated)."""
    access = OrgPage(org)
    store = jobs.ckan_store()
    number = _page_number()
    runs, total = store.history(access.org["id"], number)
    prepared, _ = store.history(access.org["id"], 1, 5, kind=RunKind.INVENTORY) if access.admin else ([], 0)
    exports, _ = store.history(access.org["id"], 1, 3, kind=RunKind.EXPORT)
    return _render("bcdc_bulk/org.html", access, runs=runs, total=total, page_number=number,
                   pages=max(1, -(-total // PAGE_SIZE)), inventories=prepared,
                   exports=[e for e in exports if e.user == access.user],
                   max_mb=options().limits.max_bytes / MB)


@bulk.route("/organization/<org>/bulk/download")
def download(org: str) -> Any:
    """The organization's records as the same workbook `bcdc-bulk export` writes: at once for a small
    organization (no file is left behind), else prepared by a job (POST, from the form)."""
    access = OrgPage(org)
    suborgs = request.args.get("suborgs") == "on"
    if suborgs or _dataset_count(access) > options().inline_datasets:
        return _render("bcdc_bulk/prepare.html", access, what="export", suborgs=suborgs)
    with tempfile.TemporaryDirectory(prefix="bcdc-bulk-export-") as folder:
        path = Path(folder) / f"{access.org['name']}.xlsx"
        bb.export(access.catalogue(), path, access.org["name"])
        data = path.read_bytes()
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=path.name)


def _dataset_count(access: OrgPage) -> int:
    from ckan.plugins import toolkit

    found = toolkit.get_action("package_search")({"user": access.user}, {
        "fq": f'owner_org:"{access.org["id"]}"', "rows": 0, "include_private": True, "include_drafts": True})
    return int(found.get("count") or 0)


@bulk.route("/organization/<org>/bulk/prepare", methods=["POST"])
def prepare(org: str) -> Any:
    """A job writes the organization's workbook (``what=export``) or its inventory (admins)."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    what = request.form.get("what", "export")
    if what == "inventory" and not access.admin:
        toolkit.abort(403, "Only admins of this organization may download its inventory.")
    kind = RunKind.INVENTORY if what == "inventory" else RunKind.EXPORT
    name = f"{access.org['name']}{'-inventory' if kind is RunKind.INVENTORY else ''}.xlsx"
    settings: dict[str, Any] = {"suborgs": request.form.get("suborgs") == "on"}
    if what == "drafts":  # every draft the user may edit, in any organization: kept in this one's history
        name, settings = f"my-drafts-{access.user}.xlsx", {"mine": True, "state": "draft"}
    run = jobs.ckan_store().create(access.org["id"], access.org["name"], access.user, name, None, kind=kind,
                                   state=RunState.PREPARING, options=settings)
    jobs.enqueue(run)
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=run.id)


@bulk.route("/organization/<org>/bulk/upload", methods=["POST"])
def upload(org: str) -> Any:
    """Keep the uploaded workbook as a run and hand its check to a job; the run's page follows it."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    opts = options()
    sent = request.files.get("workbook")
    if sent is None or not sent.filename:
        toolkit.h.flash_error("Choose the workbook you edited, then press Upload.")
        return toolkit.redirect_to("bcdc_bulk.page", org=access.org["name"])
    data = sent.stream.read(opts.limits.max_bytes + 1)
    try:
        check_upload(sent.filename, data, opts.limits)
    except BulkError as exc:
        toolkit.h.flash_error(f"The workbook was not taken: {exc}")
        return toolkit.redirect_to("bcdc_bulk.page", org=access.org["name"])
    run = jobs.ckan_store().create(access.org["id"], access.org["name"], access.user, sent.filename, data)
    jobs.enqueue(run)
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=run.id)


@bulk.route("/organization/<org>/bulk/<run_id>")
def run(org: str, run_id: str) -> Any:
    """One run: its check and plan, its progress while a job works, its report or file when done.
    Looking at it never starts anything."""
    access = OrgPage(org)
    store = jobs.ckan_store()
    found = _run_of(access, store, run_id)
    names = store.names(found)
    view = json.loads(store.read(found, jobs.PAGE_JSON) or b"{}") if jobs.PAGE_JSON in names else {}
    report = _report_rows(store, found) if jobs.REPORT_ROWS in names else []
    undone = store.get(found.undone_by) if found.undone_by else None
    return _render("bcdc_bulk/run.html", access, run=found, view=view, report=report, undone=undone,
                   stale=found.stale(limit=options().stale_after),
                   has={k: name in names for k, (name, _) in DOWNLOADS.items()})


@bulk.route("/organization/<org>/bulk/<run_id>/status")
def status(org: str, run_id: str) -> Any:
    """Where a run stands, for the page that polls it (JSON)."""
    access = OrgPage(org)
    found = _run_of(access, jobs.ckan_store(), run_id)
    return jsonify(state=str(found.state), progress=found.progress, counts=found.counts,
                   stale=found.stale(limit=options().stale_after))


@bulk.route("/organization/<org>/bulk/<run_id>/apply", methods=["POST"])
def apply(org: str, run_id: str) -> Any:
    """Queue the run's apply as the signed-in user (one apply per organization at a time)."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    store = jobs.ckan_store()
    found = _run_of(access, store, run_id)
    if found.kind is not RunKind.EDIT or found.state is not RunState.CHECKED:
        toolkit.h.flash_error("This workbook was applied already; upload it again to apply it again.")
    else:
        try:
            store.claim(found, access.user)
            jobs.enqueue(found)
        except Busy as exc:
            toolkit.h.flash_error(f"Not applied: {exc}.")
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=found.id)


@bulk.route("/organization/<org>/bulk/<run_id>/resume", methods=["POST"])
def resume(org: str, run_id: str) -> Any:
    """Hand a run whose job stopped (its worker died) to a new job; its journal keeps every write to one."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    store = jobs.ckan_store()
    found = _run_of(access, store, run_id)
    if found.stale(limit=options().stale_after):
        store.requeue(found)
        jobs.enqueue(found)
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=found.id)


@bulk.route("/organization/<org>/bulk/<run_id>/undo", methods=["POST"])
def undo(org: str, run_id: str) -> Any:
    """An admin's undo: the run's undo workbook, checked as a new upload (applied from its page)."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    if not access.admin:
        toolkit.abort(403, "Only admins of this organization may undo a run.")
    store = jobs.ckan_store()
    found = _run_of(access, store, run_id)
    data = store.read(found, jobs.UNDO)
    if data is None or found.undone_by:
        toolkit.abort(404, "This run has no undo workbook" if data is None else "This run was undone already")
    new = store.create(found.org_id, found.org_name, access.user, f"undo of {found.filename}", data,
                       undo_of=found.id)
    jobs.enqueue(new)
    return toolkit.redirect_to("bcdc_bulk.run", org=access.org["name"], run_id=new.id)


@bulk.route("/organization/<org>/bulk/<run_id>/<kind>")
def file(org: str, run_id: str, kind: str) -> Any:
    """A file of the run: the workbook, the annotated copy, the plan, the report, the undo workbook,
    the prepared inventory or workbook."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    store = jobs.ckan_store()
    found = _run_of(access, store, run_id)
    if found.kind is RunKind.INVENTORY and not access.admin:
        toolkit.abort(403, "Only admins of this organization may download its inventory.")
    data = store.read(found, DOWNLOADS[kind][0]) if kind in DOWNLOADS else None
    if data is None:
        toolkit.abort(404, "No such file")
    name, mimetype = DOWNLOADS[kind]
    stem = Path(found.filename).stem
    download_name = found.filename if kind == "result" else f"{stem}.{kind}{Path(name).suffix}"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=download_name)


@bulk.route("/organization/<org>/bulk/inventory")
def org_inventory(org: str) -> Any:
    """The inventory page of this organization (its admins): prepared by a job, from a POST."""
    from ckan.plugins import toolkit

    access = OrgPage(org)
    if not access.admin:
        toolkit.abort(403, "Only admins of this organization may download its inventory.")
    return _render("bcdc_bulk/prepare.html", access, what="inventory", suborgs=False)


@bulk.route("/ckan-admin/bulk/inventory", methods=["GET", "POST"])
def site_inventory() -> Any:
    """The whole catalogue's inventory (sysadmins): a POST prepares it in a job; the page lists the latest."""
    from ckan import authz
    from ckan.plugins import toolkit

    user = signed_in()
    if not authz.is_sysadmin(user):
        toolkit.abort(403, "Only sysadmins may download the whole catalogue's inventory.")
    store = jobs.ckan_store()
    if request.method == "POST":
        new = store.create(SITE, "", user, "catalogue-inventory.xlsx", None, kind=RunKind.INVENTORY,
                           state=RunState.PREPARING)
        jobs.enqueue(new)
        return toolkit.redirect_to("bcdc_bulk.site_inventory")
    runs, _ = store.history(SITE, 1, 10, kind=RunKind.INVENTORY)
    return toolkit.render("bcdc_bulk/site_inventory.html", {"runs": runs})


@bulk.route("/ckan-admin/bulk/inventory/<run_id>")
def site_inventory_file(run_id: str) -> Any:
    """A prepared inventory of the whole catalogue (sysadmins)."""
    from ckan import authz
    from ckan.plugins import toolkit

    if not authz.is_sysadmin(signed_in()):
        toolkit.abort(403, "Only sysadmins may download the whole catalogue's inventory.")
    store = jobs.ckan_store()
    found = store.get(run_id)
    data = store.read(found, jobs.RESULT) if found is not None and found.org_id == SITE else None
    if data is None:
        toolkit.abort(404, "No such inventory")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=found.filename)


def _report_rows(store: RunStore, found: Run) -> list[dict[str, Any]]:
    data = store.read(found, jobs.REPORT_ROWS) or b""
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
