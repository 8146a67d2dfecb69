#!/usr/bin/env python3
"""The history on the organization's Bulk edit page with 5,000 runs against 5 (issue 19). Not part of
the test suite; run by hand with the sandbox up:

    .venv/bin/python tests/bench/bench_web_history.py [--runs 5000] [--requests 30]

Two organizations; one gets 5 runs, the other 5,000 (inserted straight into bcdc_bulk_run with SQL, as
years of uploads would leave them). Timed: the page, fetched as a signed-in admin, N times each.
Target: with 5,000 runs the page takes at most 1.2 x the time it takes with 5 (the history is one
indexed query for one page of 20, and a count).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))
STATE = ROOT / "tests" / "ckan_sandbox" / ".state"


def _database_url() -> str:
    for line in (STATE / "ckan.ini").read_text().splitlines():
        if line.startswith("sqlalchemy.url"):
            return line.split("=", 1)[1].strip()
    raise SystemExit("no sqlalchemy.url in the sandbox's ckan.ini")


def _insert_runs(org_id: str, org_name: str, n: int) -> None:
    data = json.dumps({"valid": True, "errors": 0, "warnings": 0, "records": 3, "calls": 3, "undo_of": "",
                       "undone_by": "", "applied_by": "sandbox_editor", "applied_at": "2026-01-01T00:00:00+00:00",
                       "finished_at": "2026-01-01T00:01:00+00:00", "message": "", "counts": {"applied": 3},
                       "datasets": 3, "progress": {}, "options": {}})
    sql = (f"INSERT INTO bcdc_bulk_run (id, kind, org_id, org_name, user_name, filename, uploaded_at, created, state, "
           f"heartbeat, files_purged, data) SELECT md5(random()::text || g::text), 'edit', '{org_id}', '{org_name}', "
           f"'sandbox_editor', 'workbook-' || g || '.xlsx', '2026-01-01T00:00:00+00:00', 1700000000 + g, 'done', 0, "
           f"false, '{data}' FROM generate_series(1, {n}) AS g;")
    subprocess.run(["psql", _database_url(), "-q", "-c", sql], check=True)


def _time_page(session: object, url: str, requests: int) -> float:
    session.get(url)  # warm
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        answer = session.get(url)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200 and "bulk-history" in answer.text
    return statistics.median(times)


def main() -> None:
    import ckanapi
    from bench_web_apply import _session
    from conftest import _read_env

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    env = _read_env()
    sysadmin = ckanapi.RemoteCKAN(env["CKAN_URL"], apikey=env["CKAN_SYSADMIN_TOKEN"])
    orgs = []
    for n in (5, args.runs):
        name = f"history-{n}-{uuid.uuid4().hex[:6]}"
        org = sysadmin.action.organization_create(name=name, title=name)
        sysadmin.action.organization_member_create(id=org["id"], username=env["CKAN_ADMIN_USER"], role="admin")
        _insert_runs(org["id"], name, n)
        orgs.append(org)
    session = _session(env["CKAN_URL"], env["CKAN_ADMIN_USER"])
    few, many = (_time_page(session, f"{env['CKAN_URL']}/organization/{o['name']}/bulk", args.requests) for o in orgs)
    print(json.dumps({"runs": args.runs, "page_with_5_runs_s": round(few, 4), f"page_with_{args.runs}_runs_s":
                      round(many, 4), "ratio": round(many / few, 3), "target": "<= 1.2"}, indent=2))


if __name__ == "__main__":
    main()
