"""Issue 19: the extension as a catalogue runs it: two CKAN web processes and a job worker, each with
its own (empty) storage folder and nothing else shared but the database and Redis, behind a
round-robin proxy. The whole round trip through the proxy in a real browser; then the worker is
killed mid-apply and another one (its own folder again) finishes the run, each change written once."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from browser import Browser, available, keep
from roundrobin import RoundRobin
from test_apply import Org
from test_web import SHOTS, applied_so_far, password, set_cells, status_of

pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(not available(), reason="needs chromium and chromium-driver")]
STATE = Path(__file__).parent / "ckan_sandbox" / ".state"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Web pods and worker pods of one catalogue: the sandbox's database and Redis, separate folders."""

    def __init__(self, folder: Path, proxy_url: str) -> None:
        self.folder, self.proxy_url = folder, proxy_url
        self.venv = Path((STATE / "venv").read_text().strip())
        self.site_id = f"deploy{uuid.uuid4().hex[:8]}"  # its own job queue in the shared Redis
        self.procs: list[subprocess.Popen] = []
        self.web_urls: list[str] = []
        self.worker: subprocess.Popen | None = None

    def ini(self, name: str) -> Path:
        """A copy of the sandbox's ckan.ini for one pod: its own storage folder, the proxy's URL."""
        storage = self.folder / name / "storage"
        storage.mkdir(parents=True)
        ini = self.folder / name / "ckan.ini"
        ini.write_text((STATE / "ckan.ini").read_text())
        subprocess.run([str(self.venv / "bin" / "ckan"), "config-tool", str(ini), f"ckan.storage_path={storage}",
                        f"ckan.site_url={self.proxy_url}", f"ckan.site_id={self.site_id}",
                        "bcdc_bulk.stale_seconds=8"], check=True, capture_output=True)
        return ini

    def start_web(self, name: str) -> str:
        ini = self.ini(name)
        port = free_port()
        (ini.parent / "wsgi_pod.py").write_text(
            "from ckan.cli import CKANConfigLoader\nfrom ckan.config.middleware import make_app\n"
            f"application = make_app(CKANConfigLoader({str(ini)!r}).get_config())\n")
        log = (ini.parent / "gunicorn.log").open("w")
        self.procs.append(subprocess.Popen(
            [str(self.venv / "bin" / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "120",
             "--chdir", str(ini.parent), "wsgi_pod:application"], stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        self.web_urls.append(url)
        return url

    def start_worker(self, name: str) -> subprocess.Popen:
        ini = self.ini(name)
        log = (ini.parent / "worker.log").open("w")
        self.worker = subprocess.Popen([str(self.venv / "bin" / "ckan"), "-c", str(ini), "jobs", "worker"],
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(self.worker)
        return self.worker

    def wait_up(self) -> None:
        deadline = time.monotonic() + 120
        for url in self.web_urls:
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/3/action/status_show", timeout=5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{url} did not come up") from None
                    time.sleep(0.5)

    def kill_worker(self) -> None:
        """As a pod going down: the worker and the work horse it forked, at once."""
        assert self.worker is not None
        horses = subprocess.run(["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True).stdout.split()
        assert horses, "the job runs in a work horse the worker forked (in a session of its own)"
        for pid in [self.worker.pid, *map(int, horses)]:
            os.kill(pid, signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM) if proc is self.worker else proc.terminate()
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def local_files(self) -> list[Path]:
        """What bcdc-bulk left on any pod's own disk (it must keep everything in the database)."""
        # "bcdc-bulk"/"bcdc_bulk" in a name, not "bcdc" alone: CKAN's webassets cache names its files by
        # hex digests, and one ending in ...2bcdc5e0d5e once failed this test
        return [p for p in self.folder.rglob("*") if ".webassets-cache" not in p.parts and (
                p.suffix in (".xlsx", ".jsonl", ".pickle", ".lock") or "bcdc-bulk" in p.name or "bcdc_bulk" in p.name)]


@pytest.fixture
def cluster(sandbox: dict[str, str], tmp_path: Path):
    port = free_port()
    proxy_url = f"http://127.0.0.1:{port}"
    pods = Cluster(tmp_path / "pods", proxy_url)
    backends = [pods.start_web("web-1"), pods.start_web("web-2")]
    pods.start_worker("worker-1")
    with RoundRobin(backends, port) as proxy:
        try:
            pods.wait_up()
            yield pods, proxy
        finally:
            pods.stop()


def test_the_round_trip_through_two_web_pods_and_a_worker_pod_that_share_no_disk(cluster, sandbox, tmp_path):
    pods, proxy = cluster
    org = Org(sandbox, 3)
    org.sysadmin.action.organization_member_create(id=org.org["id"], username=sandbox["CKAN_ADMIN_USER"],
                                                   role="admin")
    editor = Browser(proxy.url, tmp_path / "editor", SHOTS / "deployment")
    admin = Browser(proxy.url, tmp_path / "admin", None)
    try:
        editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
        editor.go(f"/organization/{org.org['name']}/bulk")
        exported = keep(editor.download("#download-button"), tmp_path / "exported.xlsx")
        purpose = f"Through the pods {uuid.uuid4().hex[:6]}"
        edited = set_cells(exported, tmp_path / "edited.xlsx", {(3, "purpose"): purpose})
        editor.go(f"/organization/{org.org['name']}/bulk")
        editor.upload(edited)  # kept by one pod, checked by the worker pod, shown by either
        editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check", timeout=120)
        editor.driver.refresh()
        assert purpose in editor.text(".plan-dataset")  # the other pod shows the same check
        editor.shot("check")
        editor.click("#apply-button")
        editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the apply", timeout=120)
        assert "1 applied" in editor.text("#report-summary")
        report = openpyxl.load_workbook(keep(editor.download("#report-link"), tmp_path / "report.xlsx"))
        assert "Rows" in report.sheetnames
        keep(editor.download("#undo-link"), tmp_path / "undo.xlsx")
        editor.shot("report")
        assert org.sysadmin.action.package_show(id=_id_at(exported, 3))["purpose"] == purpose

        admin.login(sandbox["CKAN_ADMIN_USER"], password(sandbox["CKAN_ADMIN_USER"]))
        for _ in range(2):  # the history is the same on both pods
            admin.go(f"/organization/{org.org['name']}/bulk")
            assert "edited.xlsx" in admin.text("#bulk-history") and "1 applied" in admin.text("#bulk-history")
        admin.click(".undo-button")
        admin.wait_for(lambda: admin.text("#check-summary"), "the undo's check", timeout=120)
        admin.click("#apply-button")
        admin.wait_for(lambda: "Done" in admin.text("#report-summary"), "the undo", timeout=120)
        assert org.sysadmin.action.package_show(id=_id_at(exported, 3))["purpose"] != purpose
        admin.go(f"/organization/{org.org['name']}/bulk")
        assert "applied, undone" in admin.text("#bulk-history")
        assert not admin.driver.find_elements("css selector", ".undo-button")  # no second undo
    finally:
        editor.close()
        admin.close()
    assert min(proxy.served.values()) > 10, proxy.served  # both pods served the pages
    assert pods.local_files() == []  # nothing of bcdc-bulk on any pod's own disk


def test_a_worker_pod_killed_mid_apply_is_replaced_and_the_run_finishes_writing_each_change_once(
        cluster, sandbox, tmp_path):
    pods, proxy = cluster
    big = Org(sandbox, 60)
    editor = Browser(proxy.url, tmp_path / "editor", None)
    try:
        editor.login(sandbox["CKAN_EDITOR_USER"], password(sandbox["CKAN_EDITOR_USER"]))
        editor.go(f"/organization/{big.org['name']}/bulk")
        exported = keep(editor.download("#download-button"), tmp_path / "exported.xlsx")
        edits = {(row, "purpose"): f"Purpose {row} {uuid.uuid4().hex[:4]}" for row in range(3, 63)}
        edited = set_cells(exported, tmp_path / "sixty.xlsx", edits)
        editor.go(f"/organization/{big.org['name']}/bulk")
        editor.upload(edited)
        editor.wait_for(lambda: "No problems" in editor.text("#check-summary"), "the check", timeout=120)
        status_url = editor.driver.current_url.rstrip("/") + "/status"
        editor.click("#apply-button")

        def written() -> int:
            return applied_so_far(editor, status_url)
        editor.wait_for(lambda: written() >= 5, "the first writes", timeout=120)
        pods.kill_worker()
        killed_at = written()
        assert killed_at < 60
        pods.start_worker("worker-2")  # a new pod, with its own empty folder
        time.sleep(1)
        assert written() == killed_at  # nothing is writing any more
        editor.wait_for(lambda: status_of(editor, status_url)["stale"], "the run to show its worker stopped", 60)
        editor.driver.refresh()
        editor.click("#resume-button")
        editor.wait_for(lambda: "Done" in editor.text("#report-summary"), "the resumed apply", timeout=180)
    finally:
        editor.close()
    for row, purpose in edits.items():
        assert big.sysadmin.action.package_show(id=_id_at(exported, row[0]))["purpose"] == purpose
    changed = [len([a for a in big.sysadmin.action.package_activity_list(id=p["id"])
                    if a["activity_type"] == "changed package"]) for p in big.packages]
    assert max(changed) == 1, changed  # never written twice
    assert pods.local_files() == []


def _id_at(path: Path, row: int) -> Any:
    ws = openpyxl.load_workbook(path)["Datasets"]
    col = next(c.column for c in ws[2] if c.value == "id")
    return ws.cell(row, col).value
