#!/usr/bin/env python3
"""Validate-and-plan benchmark (issue 5). Not part of the test suite; run by hand:

    .venv/bin/python tests/bench/bench_validate.py [--packages 5000] [--edits 500]

A generated catalogue of N packages (~3 resources each) is exported; E rows are edited
(titles, purposes, a resource format each) with openpyxl; then, each in a fresh process
with its peak memory (ru_maxrss):
  - ours: read the workbook (python-calamine), plan and validate every edited record;
  - peer: openpyxl (read-only mode) reading the same workbook's cells, nothing else.
The ratio says what reading, planning and validating cost against reading alone with the
library of record. Target: ours under 15 s and 600 MB for 5,000 packages / 500 edits.
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
PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def _child(code: str) -> tuple[float, float, str]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    return elapsed, float(lines[-1]), "\n".join(lines[:-1])


def prepare(work: Path, packages_count: int, edits: int) -> int:
    """Generate, export and edit the workbook (run in its own process: Linux keeps a
    process's peak memory across exec, so the measured children must come from a small parent)."""
    import openpyxl
    from generate import generate

    from bcdc_bulk.catalogue import FileCatalogue
    from bcdc_bulk.export import export_workbook

    packages, orgs = generate(packages_count, seed=11)
    cat = work / "catalogue.jsonl"
    cat.write_text("".join(json.dumps(p) + "\n" for p in packages))
    (work / "organizations.jsonl").write_text("".join(json.dumps(o) + "\n" for o in orgs))
    exported = work / "export.xlsx"
    export_workbook(FileCatalogue(cat), exported, orgs[0]["name"])
    wb = openpyxl.load_workbook(exported)
    ds, rs = wb["Datasets"], wb["Resources"]
    dcol = {c.value: c.column for c in ds[2]}
    rcol = {c.value: c.column for c in rs[2]}
    step = max(1, (ds.max_row - 2) // edits)
    edited_rows = list(range(3, ds.max_row + 1, step))[:edits]
    for n, row in enumerate(edited_rows):
        ds.cell(row, dcol["title"]).value = f"Benchmark title {n:05d}"
        ds.cell(row, dcol["purpose"]).value = f"Edited purpose {n}"
        rs.cell(row, rcol["format"]).value = "csv"
    wb.save(work / "edited.xlsx")
    return len(edited_rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(prepare(args.prepare, args.packages, args.edits))
        return
    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-"))
    made = subprocess.run([sys.executable, __file__, "--prepare", str(work), "--packages", str(args.packages),
                           "--edits", str(args.edits)], capture_output=True, text=True, check=True)
    edited_rows = int(made.stdout.strip())
    edited = work / "edited.xlsx"

    ours = _child(
        "from pathlib import Path\nfrom bcdc_bulk.workbook_read import read_workbook\n"
        "from bcdc_bulk.validation import validate_workbook\nfrom bcdc_bulk.calls import plan_calls\n"
        f"plan, report = validate_workbook(read_workbook(Path({str(edited)!r})))\n"
        "calls = plan_calls(plan, skip=report.blocked_records())\n"
        "print(len(plan.records), len(calls), len(report.errors), len(report.warnings))\n" + PEAK)
    peer = _child(
        "import openpyxl\n"
        f"wb = openpyxl.load_workbook({str(edited)!r}, read_only=True)\n"
        "n = sum(1 for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row)\n"
        "print(n)\n" + PEAK)
    records, calls, errors, warnings = ours[2].split()
    result = {
        "packages": args.packages, "edited_rows": edited_rows, "records_planned": int(records),
        "calls": int(calls), "errors": int(errors), "warnings": int(warnings),
        "ours_s": round(ours[0], 2), "ours_peak_mb": round(ours[1]), "openpyxl_read_only_s": round(peer[0], 2),
        "openpyxl_peak_mb": round(peer[1]), "ratio": round(ours[0] / peer[0], 2),
        "target_met": ours[0] < 15 and ours[1] < 600,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
