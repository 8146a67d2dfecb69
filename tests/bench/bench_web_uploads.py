#!/usr/bin/env python3
"""Six editors uploading a large workbook at once, and CKAN's own /dataset page meanwhile (issue 19).
Not part of the test suite; run by hand with the sandbox up:

    .venv/bin/python tests/bench/bench_web_uploads.py [--packages 2000] [--uploads 6]

An organization of N datasets, its export with a purpose typed into every Datasets row. Six signed-in
editors upload it at the same moment; each upload request only keeps the file and hands the check to
the job queue. Measured: how long each upload request took, how long until every check was done, and
the latency of /dataset (median and worst) while they ran, against /dataset idle just before.
Target: every upload request about a second at most; /dataset within 1.5 x of idle.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))


def _latencies(url: str, stop: threading.Event, out: list[float]) -> None:
    import requests

    while not stop.is_set():
        start = time.perf_counter()
        requests.get(f"{url}/dataset", timeout=120)
        out.append(time.perf_counter() - start)
        time.sleep(0.2)


def _upload(url: str, user: str, org: dict, workbook: Path, out: dict) -> None:
    from bench_web_apply import TOKEN, _session

    session = _session(url, user)
    token = TOKEN.search(session.get(f"{url}/organization/{org['name']}/bulk").text).group(1)
    start = time.perf_counter()
    with workbook.open("rb") as handle:
        answer = session.post(f"{url}/organization/{org['name']}/bulk/upload", data={"_csrf_token": token},
                              files={"workbook": (workbook.name, handle)}, allow_redirects=False)
    out["request_s"] = time.perf_counter() - start
    run_url = url + answer.headers["Location"] if answer.headers["Location"].startswith("/") else answer.headers["Location"]
    while session.get(f"{run_url}/status").json()["state"] == "checking":
        time.sleep(0.5)
    out["checked_s"] = time.perf_counter() - start


def main() -> None:
    import requests
    from bench_apply import _edited_workbook, _org
    from conftest import _read_env

    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--uploads", type=int, default=6)
    args = parser.parse_args()
    env = _read_env()
    url = env["CKAN_URL"]
    org, _ = _org(env, args.packages, "u")
    workbook, _ = _edited_workbook(env, org)
    idle = []
    for _ in range(20):
        start = time.perf_counter()
        requests.get(f"{url}/dataset", timeout=120)
        idle.append(time.perf_counter() - start)
    busy: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_latencies, args=(url, stop, busy))
    watcher.start()
    results = [{} for _ in range(args.uploads)]
    uploads = [threading.Thread(target=_upload, args=(url, env["CKAN_EDITOR_USER"], org, workbook, r)) for r in results]
    for t in uploads:
        t.start()
    for t in uploads:
        t.join()
    stop.set()
    watcher.join()
    idle_median = statistics.median(idle)
    print(json.dumps({
        "packages": args.packages, "uploads": args.uploads,
        "upload_request_s": [round(r["request_s"], 2) for r in results],
        "all_checked_s": round(max(r["checked_s"] for r in results), 1),
        "dataset_page_idle_median_s": round(idle_median, 3),
        "dataset_page_during_median_s": round(statistics.median(busy), 3),
        "dataset_page_during_worst_s": round(max(busy), 3),
        "ratio_median_during_vs_idle": round(statistics.median(busy) / idle_median, 2),
        "target": "upload requests ~1 s at most; /dataset within 1.5 x idle"}, indent=2))


if __name__ == "__main__":
    main()
