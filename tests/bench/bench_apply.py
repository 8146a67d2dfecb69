#!/usr/bin/env python3
"""Apply benchmarks (issue 6). Not part of the test suite; run by hand with the sandbox up:

    .venv/bin/python tests/bench/bench_apply.py [--packages 500] [--latency-packages 80]

overhead: `bcdc-bulk apply` of N changed packages (a new purpose each) with 4 workers, against a
  plain ckanapi loop making the same N calls (package_revise, same payloads) with 4 workers,
  and `ckanapi load datasets -p 4` writing the same N whole packages. Target: apply <= 1.2 x
  the plain loop.
latency: the same kind of apply through a loopback proxy adding 200 ms to every call, with 1
  and with 8 workers. Target: 8 workers at least 3 x faster.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sample_data"))
sys.path.insert(0, str(ROOT / "tests"))


def _org(env: dict[str, str], count: int, tag: str) -> tuple[dict, list[dict]]:
    """A fresh organization with ``count`` current-era packages, seeded as stored (fast)."""
    import random

    from generate import generate, make_package

    name = f"bench-apply-{tag}-{uuid.uuid4().hex[:6]}"
    _, orgs = generate(1, seed=5, org_name=name)
    rng = random.Random(5)
    packages = []
    for i in range(count):  # today's records only: an apply benchmark measures writes, not legacy refusals
        pkg = make_package(rng, i, orgs[0], "current", publish_state="DRAFT", total=1000)
        suffix = uuid.uuid4().hex[:8]
        pkg["id"], pkg["name"], pkg["title"] = str(uuid.uuid4()), f"{name}-{i}-{suffix}", f"{pkg['title']} {suffix}"
        for res in pkg["resources"]:  # fresh ids: the generator is seeded
            res["id"], res["package_id"], res["details"] = str(uuid.uuid4()), pkg["id"], res["details"][:1]
        packages.append(pkg)
    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-"))
    (work / "catalogue.jsonl").write_text("".join(json.dumps(p) + "\n" for p in packages))
    (work / "organizations.jsonl").write_text("".join(json.dumps(o) + "\n" for o in orgs))
    subprocess.run([sys.executable, str(ROOT / "tests/ckan_sandbox/seed.py"), str(work / "catalogue.jsonl"),
                    "--members", f"{env['CKAN_EDITOR_USER']}=editor"], check=True,
                   env={"CKAN_URL": env["CKAN_URL"], "CKAN_SYSADMIN_TOKEN": env["CKAN_SYSADMIN_TOKEN"],
                        "PATH": os.environ["PATH"]}, capture_output=True)
    return orgs[0], packages


def _edited_workbook(env: dict[str, str], org: dict, url: str | None = None,
                     resources: bool = False) -> tuple[Path, list[str]]:
    import openpyxl

    from bcdc_bulk.ckan_catalogue import remote_catalogue
    from bcdc_bulk.export import export_workbook

    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-"))
    path = work / "org.xlsx"
    export_workbook(remote_catalogue(url or env["CKAN_URL"], env["CKAN_EDITOR_TOKEN"]), path, org["name"])
    wb = openpyxl.load_workbook(path)
    ws = wb["Datasets"]
    cols = {c.value: c.column for c in ws[2]}
    ids = []
    for row in range(3, ws.max_row + 1):
        if ws.cell(row, cols["id"]).value:
            ws.cell(row, cols["purpose"]).value = f"Benchmark purpose {uuid.uuid4().hex[:8]}"
            ids.append(ws.cell(row, cols["id"]).value)
    if resources:  # and every resource's description: with --method patch, one more call each
        rs = wb["Resources"]
        rcols = {c.value: c.column for c in rs[2]}
        for row in range(3, rs.max_row + 1):
            if rs.cell(row, rcols["id"]).value:
                rs.cell(row, rcols["description"]).value = f"Benchmark description {uuid.uuid4().hex[:8]}"
    wb.save(work / "edited.xlsx")
    return work / "edited.xlsx", ids


def _apply(env: dict[str, str], path: Path, url: str, workers: int, method: str = "revise") -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "bcdc-bulk"), "-q", "apply", str(path), "-r", url,
                           "--workers", str(workers), "--method", method], capture_output=True, text=True,
                          env=dict(os.environ, BCDC_API_KEY=env["CKAN_EDITOR_TOKEN"]))
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"apply failed: {proc.stdout[-800:]}{proc.stderr[-800:]}")
    return elapsed


def overhead(env: dict[str, str], count: int) -> dict:
    import ckanapi

    org, _ = _org(env, count, "o")
    edited, ids = _edited_workbook(env, org)
    ours = _apply(env, edited, env["CKAN_URL"], 4)
    ckan = ckanapi.RemoteCKAN(env["CKAN_URL"], apikey=env["CKAN_EDITOR_TOKEN"])

    def revise(pid: str) -> None:
        ckan.call_action("package_revise", {"match": {"id": pid}, "update": {"purpose": f"Peer {uuid.uuid4().hex}"}})

    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(revise, ids))
    peer = time.perf_counter() - start
    # ckanapi load: whole packages (package_update each), the way a user of ckanapi would do it
    sysadmin = ckanapi.RemoteCKAN(env["CKAN_URL"], apikey=env["CKAN_SYSADMIN_TOKEN"])
    dump = Path(tempfile.mkdtemp(prefix="bcdc-bench-")) / "load.jsonl"
    with dump.open("w") as handle:
        for pid in ids:
            pkg = sysadmin.action.package_show(id=pid)
            pkg["purpose"] = f"Load {uuid.uuid4().hex[:8]}"
            handle.write(json.dumps(pkg) + "\n")
    bin_dir = Path(sys.executable).parent
    start = time.perf_counter()
    load = subprocess.run([str(bin_dir / "ckanapi"), "load", "datasets", "-I", str(dump), "-p", "4", "-r",
                           env["CKAN_URL"], "-a", env["CKAN_EDITOR_TOKEN"], "-q"], capture_output=True,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    loaded = time.perf_counter() - start
    if load.returncode:
        raise SystemExit(f"ckanapi load failed: {load.stderr.decode()[-500:]}")
    return {"packages": len(ids), "apply_s": round(ours, 2), "ckanapi_loop_s": round(peer, 2),
            "ckanapi_load_s": round(loaded, 2), "ratio_vs_loop": round(ours / peer, 3), "target": "<= 1.2"}


def latency(env: dict[str, str], count: int) -> dict:
    from faultproxy import FaultProxy

    org, _ = _org(env, count, "l")
    times = {}
    with FaultProxy(env["CKAN_URL"], latency=0.2) as proxy:
        for workers in (1, 8):
            # exported through the proxy too: a workbook is applied to the site it came from
            edited, _ = _edited_workbook(env, org, proxy.url)
            times[workers] = _apply(env, edited, proxy.url, workers)
    return {"packages": count, "latency_ms": 200, "workers_1_s": round(times[1], 2),
            "workers_8_s": round(times[8], 2), "speedup": round(times[1] / times[8], 2), "target": ">= 3"}


def methods(env: dict[str, str], count: int) -> dict:
    """package_revise (one call a dataset) against package_patch + resource_patch (one call a
    dataset and one a resource), on datasets whose every resource changed too."""
    out = {}
    for method in ("revise", "patch"):
        org, packages = _org(env, count, method[0])
        edited, _ = _edited_workbook(env, org, resources=True)
        out[f"{method}_s"] = round(_apply(env, edited, env["CKAN_URL"], 4, method), 2)
    out.update(packages=count, resources=sum(len(p["resources"]) for p in packages),
               ratio_patch_vs_revise=round(out["patch_s"] / out["revise_s"], 2))
    return out


def main() -> None:
    from conftest import _read_env

    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--latency-packages", type=int, default=80)
    parser.add_argument("--method-packages", type=int, default=100)
    parser.add_argument("--only", choices=["overhead", "latency", "methods"])
    args = parser.parse_args()
    env = _read_env()
    parts = {"overhead": lambda: overhead(env, args.packages), "latency": lambda: latency(env, args.latency_packages),
             "methods": lambda: methods(env, args.method_packages)}
    print(json.dumps({k: f() for k, f in parts.items() if args.only in (None, k)}, indent=2))


if __name__ == "__main__":
    main()
