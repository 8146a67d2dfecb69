#!/usr/bin/env python3
"""The inventory of a whole catalogue of 20,000 records, as a job worker writes it (issue 19). Not part
of the test suite; run by hand:

    .venv/bin/python tests/bench/bench_inventory.py [--packages 20000] [--peer REV]

A generated catalogue file of N records (~3 resources each) to the inventory workbook, in a fresh child
process: its time and peak memory (ru_maxrss). The peer is the same inventory by the code of another
revision of this repository (default: the one before the inventory was streamed), checked out into a
temporary folder with `git worktree` and run on the same file in the same run.
Target: peak under 300 MB, time no worse than the peer's.
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
BEFORE = "6c36199"  # the last revision whose inventory held every record in memory
PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def _child(code: str, source: Path) -> tuple[float, float]:
    """(seconds, peak MB) of ``code`` run by a fresh interpreter with ``source`` first on its path."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", f"import sys\nsys.path.insert(0, {str(source)!r})\n" + code],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return elapsed, float(proc.stdout.strip().splitlines()[-1])


def _inventory(cat: Path, out: Path, source: Path) -> tuple[float, float]:
    return _child("from pathlib import Path\nimport bcdc_bulk as bb\nfrom bcdc_bulk.catalogue import FileCatalogue\n"
                  f"bb.inventory(FileCatalogue(Path({str(cat)!r})), Path({str(out)!r}))\n" + PEAK, source)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=20000)
    parser.add_argument("--peer", default=BEFORE, help="the revision to compare with")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bcdc-bench-inventory-"))
    cat = work / "catalogue.jsonl"
    subprocess.run([sys.executable, "-c", (
        f"import json, sys\nsys.path.insert(0, {str(ROOT / 'sample_data')!r})\nfrom generate import generate\n"
        f"packages, orgs = generate({args.packages}, seed=7)\n"
        f"open({str(cat)!r}, 'w').write(''.join(json.dumps(p) + '\\n' for p in packages))\n"
        f"open({str(work / 'organizations.jsonl')!r}, 'w').write(''.join(json.dumps(o) + '\\n' for o in orgs))\n")],
        check=True)
    peer_tree = work / "peer"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(peer_tree), args.peer], check=True,
                   capture_output=True)
    try:
        ours = _inventory(cat, work / "ours.xlsx", ROOT)
        peer = _inventory(cat, work / "peer.xlsx", peer_tree)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(peer_tree)], check=False)
    print(json.dumps({"packages": args.packages, "inventory_s": round(ours[0], 1), "inventory_peak_mb": round(ours[1]),
                      f"peer_{args.peer}_s": round(peer[0], 1), f"peer_{args.peer}_peak_mb": round(peer[1]),
                      "time_ratio": round(ours[0] / peer[0], 2), "target": "peak < 300 MB, time ratio <= 1.0"},
                     indent=2))


if __name__ == "__main__":
    main()
