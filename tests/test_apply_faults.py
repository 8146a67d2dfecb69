"""Issue 6: reliability. Faults between us and the server, a killed process, concurrent edits."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import openpyxl
from faultproxy import FaultProxy
from test_apply import Org

import bcdc_bulk as bb
from bcdc_bulk.applying import apply_plan
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.results import ApplySettings
from bcdc_bulk.validation import validate_workbook


def edit_many(src: Path, dst: Path, org: Org, new: int = 0) -> dict[str, str]:
    """Change every package's purpose and its first resource's description; add ``new`` datasets.
    Returns the expected purpose by package id, and new names by title."""
    wb = openpyxl.load_workbook(src)
    ds, rs = wb["Datasets"], wb["Resources"]
    dcol = {c.value: c.column for c in ds[2]}
    rcol = {c.value: c.column for c in rs[2]}
    expected = {}
    for row in range(3, ds.max_row + 1):
        pid = ds.cell(row, dcol["id"]).value
        if pid:
            expected[pid] = f"Purpose {pid[:8]} {uuid.uuid4().hex[:6]}"
            ds.cell(row, dcol["purpose"]).value = expected[pid]
    first_seen = set()  # each dataset's first resource (rows come in position order)
    for row in range(3, rs.max_row + 1):
        owner = rs.cell(row, rcol["package_name"]).value
        if rs.cell(row, rcol["id"]).value and owner not in first_seen:
            first_seen.add(owner)
            rs.cell(row, rcol["description"]).value = f"Described {rs.cell(row, rcol['id']).value[:8]}"
    row = ds.max_row + 1
    for i in range(new):
        name = f"{org.org['name']}-new-{i}"
        for field, value in {"name": name, "title": f"New {org.org['name']} {i}", "owner_org": org.org["name"],
                             "publish_state": "DRAFT", "notes": "New.", "license_id": "2", "tags": "new",
                             "security_class": "PUBLIC", "view_audience": "Public", "download_audience": "Public",
                             "metadata_visibility": "Public", "resource_status": "onGoing"}.items():
            ds.cell(row + i, dcol[field]).value = value
    wb.save(dst)
    return expected


def check_final_state(org: Org, expected: dict[str, str], new: int) -> None:
    for pid, purpose in expected.items():
        now = org.sysadmin.action.package_show(id=pid)
        assert now["purpose"] == purpose
        assert now["resources"][0]["description"] == f"Described {now['resources'][0]['id'][:8]}"
    for i in range(new):
        found = org.sysadmin.action.package_search(fq=f'name:"{org.org["name"]}-new-{i}"', include_private=True,
                                                   include_drafts=True)
        assert found["count"] == 1, f"new dataset {i} exists {found['count']} times"


def test_twenty_percent_faults_every_change_lands_exactly_once(sandbox, tmp_path):
    org = Org(sandbox, 60)
    exported = org.export(tmp_path / "org.xlsx")
    expected = edit_many(exported, tmp_path / "edited.xlsx", org, new=5)
    edited = tmp_path / "edited.xlsx"
    plan, report = validate_workbook(bb.read(edited), remote_catalogue(org.url, sandbox["CKAN_EDITOR_TOKEN"]))
    assert report.valid and len(plan.records) == 65
    with FaultProxy(org.url, share=0.2, seed=20261123) as proxy:
        catalogue = remote_catalogue(proxy.url, sandbox["CKAN_EDITOR_TOKEN"])
        settings = ApplySettings(workers=4, retries=8, backoff=0.02)
        result = apply_plan(catalogue, plan, report, settings, edited, bb.read(edited).fingerprint)
    assert len(proxy.injected) >= 10 and set(proxy.injected) >= {"500", "502", "503", "429", "drop", "lost"}
    statuses = Counter(r.status for r in result.rows)
    # a Datasets and a Resources row per update
    assert statuses == {"applied": 120, "created": 5}, [r.message for r in result.rows if r.status == "failed"]
    # exactly once: every record got one successful write on the server, however many faults
    writes = Counter(i for call in proxy.forwarded if call["action"] in ("package_revise", "package_create")
                     and call["status"] == 200 for i in call["ids"][:1])
    assert all(n == 1 for n in writes.values()), writes
    assert len(writes) == 65
    check_final_state(org, expected, new=5)
    # the report matches the server, record for record
    for row in result.rows:
        if row.action == "update":
            assert org.sysadmin.action.package_show(id=row.dataset_id)["purpose"] == expected[row.dataset_id]


def test_killed_at_random_points_a_rerun_completes_without_duplicates(sandbox, tmp_path):
    org = Org(sandbox, 190)
    exported = org.export(tmp_path / "org.xlsx")
    expected = edit_many(exported, tmp_path / "edited.xlsx", org, new=10)
    edited = tmp_path / "edited.xlsx"
    command = [sys.executable, "-m", "bcdc_bulk.cli", "-q", "apply", str(edited), "-r", org.url, "--workers", "4"]
    env = dict(os.environ, BCDC_API_KEY=sandbox["CKAN_EDITOR_TOKEN"])
    rng = random.Random(7)
    journal = edited.with_name("edited.journal.jsonl")

    def journalled() -> int:
        return len(journal.read_text(encoding="utf-8").splitlines()) if journal.exists() else 0

    kills = 0
    while kills < 12:
        start = journalled()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill it while it writes: after this run's first journalled call, at a random moment
        while proc.poll() is None and journalled() == start:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is not None:
            break  # it finished before the kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills >= 10
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stdout + final.stderr
    report = [json.loads(line) for line in edited.with_name("edited.report.jsonl").read_text().splitlines()]
    assert {r["status"] for r in report} <= {"unchanged", "applied", "created"}
    check_final_state(org, expected, new=10)


def test_ctrl_c_finishes_the_calls_in_flight_writes_the_report_and_stops(sandbox, tmp_path):
    org = Org(sandbox, 80)
    exported = org.export(tmp_path / "org.xlsx")
    expected = edit_many(exported, tmp_path / "edited.xlsx", org)
    edited = tmp_path / "edited.xlsx"
    command = [sys.executable, "-m", "bcdc_bulk.cli", "-q", "apply", str(edited), "-r", org.url, "--workers", "2"]
    env = dict(os.environ, BCDC_API_KEY=sandbox["CKAN_EDITOR_TOKEN"])
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    report_file = edited.with_name("edited.journal.jsonl")
    deadline = time.monotonic() + 60
    def journalled() -> int:
        return len(report_file.read_text(encoding="utf-8").splitlines()) if report_file.exists() else 0
    while journalled() < 3 and proc.poll() is None and time.monotonic() < deadline:  # writes are under way
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err
    assert "Stopped: " in out and "skipped" in out and "Traceback" not in err
    rows = [json.loads(line) for line in edited.with_name("edited.report.jsonl").read_text().splitlines()]
    statuses = Counter(r["status"] for r in rows)
    assert statuses["applied"] > 0 and statuses["skipped"] > 0 and not statuses["failed"], statuses
    # every row reported applied really is on the server; a rerun finishes the rest
    for row in rows:
        if row["status"] == "applied" and row["sheet"] == "Datasets":
            assert org.sysadmin.action.package_show(id=row["dataset_id"])["purpose"] == expected[row["dataset_id"]]
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_final_state(org, expected, new=0)
