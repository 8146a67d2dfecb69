#!/usr/bin/env bash
# Make the README's pictures with look.sh: an export of the sample catalogue (its Datasets sheet with
# a dropdown open), the annotated copy validate writes, and the inventory's Summary and Findings.
#   bash tests/look/readme_pictures.sh            (writes docs/images/*.png)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
OUT="$ROOT/docs/images"
mkdir -p "$OUT"
BULK=.venv/bin/bcdc-bulk
$BULK -q export -r sample_data/catalogue.jsonl --org ministry-of-sample-services --include-suborgs -o "$WORK/my-org.xlsx"
.venv/bin/python - "$WORK" <<'PY'
import sys
from pathlib import Path

import openpyxl

work = Path(sys.argv[1])
wb = openpyxl.load_workbook(work / "my-org.xlsx")
ws = wb["Datasets"]
col = {c.value: c.column for c in ws[2]}
ws.cell(4, col["security_class"]).value = "SECRET"
ws.cell(6, col["title"]).value = "x"
ws.cell(7, col["license_id"]).value = "22 - Statistics Canada Open Licence"
contacts = wb["Contacts"]
contacts.cell(3, next(c.column for c in contacts[2] if c.value == "email")).value = "call reception"
wb.save(work / "my-org-edited.xlsx")
PY
$BULK validate "$WORK/my-org-edited.xlsx" --annotate "$WORK/my-org-marked.xlsx" >/dev/null || true
$BULK -q inventory -r sample_data/catalogue.jsonl -o "$WORK/inventory.xlsx" >/dev/null
LOOK="bash tests/look/look.sh"
$LOOK "$WORK/my-org.xlsx" "$WORK/export" --sheets Datasets --dropdown Datasets!H5 >/dev/null
$LOOK "$WORK/my-org-marked.xlsx" "$WORK/marked" --sheets Problems --cell Datasets!H4 >/dev/null
$LOOK "$WORK/inventory.xlsx" "$WORK/inventory" --sheets Summary,Findings >/dev/null
cp "$WORK/export/01-Datasets.png" "$OUT/export-datasets.png"
cp "$WORK/export/02-dropdown-Datasets-H5.png" "$OUT/export-dropdown.png"
cp "$WORK/marked/01-Problems.png" "$OUT/annotated-problems.png"
cp "$WORK/marked/02-cell-Datasets-H4.png" "$OUT/annotated-cell.png"
cp "$WORK/inventory/01-Summary.png" "$OUT/inventory-summary.png"
cp "$WORK/inventory/02-Findings.png" "$OUT/inventory-findings.png"
ls "$OUT"
