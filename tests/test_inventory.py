"""Issue 4 (inventory): the auditor's workbook: record sheets, Summary with charts, Findings."""
from __future__ import annotations

import json
from collections import Counter

import openpyxl
from click.testing import CliRunner
from conftest import SAMPLE

from bcdc_bulk.catalogue import RemoteCatalogue
from bcdc_bulk.cli import cli
from bcdc_bulk.inventory import build_inventory
from bcdc_bulk.planning import build_plan
from bcdc_bulk.workbook_read import read_workbook

BRANCH_ID = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"


def _table(ws, title: str) -> dict[str, list]:
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == title)
    out = {}
    for r in rows[start + 2:]:
        if r[0] in (None, ""):
            break
        out[r[0]] = [v for v in r[1:] if v is not None]
    return out


def test_inventory_of_the_sample_file(tmp_path):
    out = tmp_path / "inventory.xlsx"
    result = CliRunner().invoke(cli, ["-q", "inventory", "-r", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    packages = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["Instructions", "Summary", "Findings", "Datasets"]
    summary = wb["Summary"]
    assert len(summary._charts) == 6
    security = _table(summary, "Datasets by security class")
    assert {k: v[0] for k, v in security.items()} == dict(Counter(p["security_class"] for p in packages))
    formats = _table(summary, "Resources by format")
    assert sum(v[0] for v in formats.values()) == sum(len(p["resources"]) for p in packages)
    by_org = _table(summary, "Datasets by organization and state")
    assert sum(v[-1] for v in by_org.values()) == len(packages)
    findings = list(wb["Findings"].iter_rows(values_only=True))
    header, rows = findings[0], [dict(zip(findings[0], r, strict=True)) for r in findings[1:]]
    assert header[:4] == ("organization", "dataset", "title", "where")
    legacy = {p["name"] for p in packages if p["security_class"] not in ("PUBLIC", "PROTECTED A", "PROTECTED B",
                                                                           "PROTECTED C")}
    flagged = {r["dataset"] for r in rows if r["field"] == "security_class" and r["severity"] == "error"}
    assert legacy and flagged == legacy
    assert all(r["message"] and r["code"] for r in rows)
    assert result.output.startswith("Inventory of the whole catalogue: 64 datasets, 511 resources, ")
    # the record sheets are the export's: reading them back finds no changes
    assert build_plan(read_workbook(out)).records == []


def test_inventory_against_the_sandbox(sandbox, tmp_path):
    catalogue = RemoteCatalogue(sandbox["CKAN_URL"], sandbox["CKAN_ADMIN_TOKEN"])
    out = tmp_path / "branch.xlsx"
    result = build_inventory(catalogue, out, ["sample-data-branch"])
    assert result.organizations == ["sample-data-branch"]
    book = read_workbook(out)
    assert {p["owner_org"] for p in book.snapshot.values()} == {BRANCH_ID}
    assert result.packages == len(book.snapshot) >= 16
    assert catalogue.calls.count("package_search") == 1
