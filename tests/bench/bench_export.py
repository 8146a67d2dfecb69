#!/usr/bin/env python3
"""Export benchmarks (issue 4). Not part of the test suite; run by hand:

    .venv/bin/python tests/bench/bench_export.py offline [--packages 5000]
    .venv/bin/python tests/bench/bench_export.py sandbox [--packages 2000]

offline: a generated catalogue file of N packages (~3 resources each) to a finished
  workbook, in a child process, timed and with its peak memory (ru_maxrss); the peer in
  the same run is openpyxl writing the same rows in its normal mode (the library of
  record), so the ratio tells what the xlsxwriter path buys.
sandbox: bcdc-bulk export of an organization of N packages on the sandbox, side by side
  with `ckanapi dump datasets` of the same packages (one package_show each, -p 3).
  Target: export <= 1/3 of the dump's time.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sample_data"))
sys.path.insert(0, str(ROOT / "tests"))


def _child(code: str) -> tuple[float, float]:
    """(seconds, peak MB) of running ``code`` in a fresh interpreter."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return elapsed, float(proc.stdout.strip().splitlines()[-1])


PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def offline(count: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-"))
    cat = work / "catalogue.jsonl"
    # generated in a child: Linux keeps a process's peak memory across exec, so the measured
    # children must start from a small parent
    made = subprocess.run([sys.executable, "-c", (
        f"import json, sys\nsys.path.insert(0, {str(ROOT / 'sample_data')!r})\nfrom generate import generate\n"
        f"packages, orgs = generate({count}, seed=7)\n"
        f"open({str(cat)!r}, 'w').write(''.join(json.dumps(p) + '\\n' for p in packages))\n"
        f"open({str(work / 'organizations.jsonl')!r}, 'w').write(''.join(json.dumps(o) + '\\n' for o in orgs))\n"
        "print(orgs[0]['name'], sum(len(p['resources']) for p in packages))")], capture_output=True, text=True,
        check=True)
    org, resources = made.stdout.split()
    ours = _child(
        "from pathlib import Path\nfrom bcdc_bulk.catalogue import FileCatalogue\n"
        "from bcdc_bulk.export import export_workbook\n"
        f"export_workbook(FileCatalogue(Path({str(cat)!r})), Path({str(work / 'out.xlsx')!r}), {org!r})\n" + PEAK)
    read = _child(
        "from pathlib import Path\nfrom bcdc_bulk.workbook_read import read_workbook\n"
        "from bcdc_bulk.planning import build_plan\n"
        f"p = build_plan(read_workbook(Path({str(work / 'out.xlsx')!r})))\nassert not p.records\n" + PEAK)
    peer = _child(
        "import json\nfrom pathlib import Path\nfrom openpyxl import Workbook\n"
        "from bcdc_bulk.catalogue import FileCatalogue\nfrom bcdc_bulk.schema import shipped_schema\n"
        "from bcdc_bulk.tables import Renderer, load_layout, display_text\n"
        f"cat = FileCatalogue(Path({str(cat)!r}))\npk = list(cat.all_packages())\n"
        "r = Renderer(shipped_schema(), load_layout(), {})\nwb = Workbook()\nws = wb.active\n"
        "for p in pk:\n    ws.append([display_text(v) for v in r.dataset_row(p).values()])\n"
        "ws2 = wb.create_sheet('R')\n"
        "for p in pk:\n    for row in r.resource_rows(p):\n        ws2.append([display_text(v) for v in row.values()])\n"
        f"wb.save({str(work / 'peer.xlsx')!r})\n" + PEAK)
    return {"packages": count, "resources": int(resources),
            "export_s": round(ours[0], 2), "export_peak_mb": round(ours[1]),
            "read_and_diff_s": round(read[0], 2), "read_peak_mb": round(read[1]),
            "openpyxl_peer_s": round(peer[0], 2), "openpyxl_peer_peak_mb": round(peer[1]),
            "ratio_export_vs_openpyxl": round(ours[0] / peer[0], 2),
            "targets": "export < 20 s and < 500 MB for 5,000 packages"}


def sandbox(count: int) -> dict:
    from conftest import _read_env
    from generate import generate

    env = _read_env()
    name = f"bench-org-{count}"
    packages, orgs = generate(count, seed=11, org_name=name)
    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-"))
    import ckanapi

    ckan = ckanapi.RemoteCKAN(env["CKAN_URL"], apikey=env["CKAN_SYSADMIN_TOKEN"])
    have = ckan.action.package_search(fq=f'owner_org:"{orgs[0]["id"]}"', rows=0, include_private=True)["count"]
    if have < count:
        path = work / "catalogue.jsonl"
        path.write_text("".join(json.dumps(p) + "\n" for p in packages))
        (work / "organizations.jsonl").write_text("".join(json.dumps(o) + "\n" for o in orgs))
        subprocess.run([sys.executable, str(ROOT / "tests/ckan_sandbox/seed.py"), str(path)], check=True,
                       env={"CKAN_URL": env["CKAN_URL"], "CKAN_SYSADMIN_TOKEN": env["CKAN_SYSADMIN_TOKEN"]})
    bin_dir = Path(sys.executable).parent
    start = time.perf_counter()
    subprocess.run([str(bin_dir / "bcdc-bulk"), "-q", "export", "-r", env["CKAN_URL"], "--org", name,
                    "-o", str(work / "out.xlsx")], check=True,
                   env={"BCDC_API_KEY": env["CKAN_SYSADMIN_TOKEN"], "PATH": "/usr/bin:/bin"})
    ours = time.perf_counter() - start
    start = time.perf_counter()
    dump = subprocess.run([str(bin_dir / "ckanapi"), "dump", "datasets", *[p["id"] for p in packages], "-p", "3",
                           "-O", str(work / "dump.jsonl"), "-r", env["CKAN_URL"], "-a", env["CKAN_SYSADMIN_TOKEN"],
                           "-q"], capture_output=True,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin"})  # its workers run `ckanapi` from PATH
    peer = time.perf_counter() - start
    if dump.returncode:  # report without the command line, which holds the token
        raise SystemExit(f"ckanapi dump failed: {dump.stderr.decode()[-500:]}")
    return {"packages": count, "export_s": round(ours, 2), "ckanapi_dump_s": round(peer, 2),
            "ratio": round(ours / peer, 3), "target": "ratio <= 0.333"}


def main() -> None:
    parser = argparse.ArgumentParser(description="export benchmarks")
    parser.add_argument("mode", choices=["offline", "sandbox"])
    parser.add_argument("--packages", type=int)
    args = parser.parse_args()
    result = offline(args.packages or 5000) if args.mode == "offline" else sandbox(args.packages or 2000)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
