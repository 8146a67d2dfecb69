"""Issue 4 (inventory): the auditor's workbook: record sheets, Summary with charts, Findings."""
from __future__ import annotations

import json
from collections import Counter

import openpyxl
from click.testing import CliRunner
from conftest import SAMPLE

import bcdc_bulk as bb
from bcdc_bulk.ckan_catalogue import remote_catalogue
from bcdc_bulk.cli import cli
from bcdc_bulk.inventory import build_inventory

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


def chart_totals(path, title: str) -> dict[str, float]:
    """What a chart of the workbook draws, summed over its series, by category (read from the
    chart's XML and the cells its series point at, as Excel and LibreOffice read them)."""
    import re
    import zipfile

    wb = openpyxl.load_workbook(path)
    with zipfile.ZipFile(path) as zf:
        for part in (n for n in zf.namelist() if n.startswith("xl/charts/chart")):
            xml = zf.read(part).decode()
            if f"<a:t>{title}</a:t>" not in xml:
                continue
            assert '<c:min val="0"/>' in xml  # the value axis starts at 0
            cats = re.findall(r"<c:cat>.*?<c:f>(.*?)</c:f>", xml, re.S)
            vals = re.findall(r"<c:val>.*?<c:f>(.*?)</c:f>", xml, re.S)
            totals: dict[str, float] = {}
            for cat_ref, val_ref in zip(cats, vals, strict=True):
                names = [c.value for row in wb["Summary"][cat_ref.split("!")[1].replace("$", "")] for c in row]
                counts = [c.value for row in wb["Summary"][val_ref.split("!")[1].replace("$", "")] for c in row]
                for name, count in zip(names, counts, strict=True):
                    totals[name] = totals.get(name, 0) + count
            return totals
    raise AssertionError(f"no chart titled {title}")


def test_inventory_of_the_sample_file(tmp_path):
    out = tmp_path / "inventory.xlsx"
    result = CliRunner().invoke(cli, ["-q", "inventory", "-r", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    packages = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["Instructions", "Summary", "Findings", "Datasets"]
    summary = wb["Summary"]
    assert len(summary._charts) == 6
    security = _table(summary, "Datasets by Security Classification")
    words = {"PUBLIC": "Public", "PROTECTED A": "Protected-A", "PROTECTED B": "Protected-B", "PROTECTED C": "Protected-C"}
    assert {k: v[0] for k, v in security.items()} == dict(Counter(
        words.get(p["security_class"], f"{p['security_class']} (no longer a choice)") for p in packages))
    assert "HIGH-CABINET (no longer a choice)" in security  # a retired value does not pass for a category
    formats = _table(summary, "Resources by format (formats written in capitals counted with their listed form)")
    assert "html" in formats and "HTML" not in formats
    assert sum(v[0] for v in formats.values()) == sum(len(p["resources"]) for p in packages)
    by_org = _table(summary, "Datasets by organization and state")
    assert sum(v[-1] for v in by_org.values()) == len(packages)
    # what the chart draws: each dataset counted once per organization, from 0
    drawn = chart_totals(out, "Datasets by organization and state")
    assert drawn == {org: v[-1] for org, v in by_org.items()}
    assert sum(drawn.values()) == len(packages)
    findings = list(wb["Findings"].iter_rows(values_only=True))
    header, rows = findings[0], [dict(zip(findings[0], r, strict=True)) for r in findings[1:]]
    assert header[:7] == ("Severity", "Organization", "Dataset", "Where", "Stored value", "Change it to", "Message")
    assert [r["Severity"] for r in rows] == sorted((r["Severity"] for r in rows), key=lambda s: s != "error")
    assert any(r["Where"].endswith("/ Resource Storage Format") for r in rows)  # in the form's words
    legacy = {p["name"] for p in packages if p["security_class"] not in ("PUBLIC", "PROTECTED A", "PROTECTED B",
                                                                           "PROTECTED C")}
    flagged = {r["Dataset"] for r in rows if r["Field"] == "security_class" and r["Severity"] == "error"}
    assert legacy and flagged == legacy
    assert all(r["Message"] and r["Code"] for r in rows)
    # what to change a stored value to, where the schema knows
    assert {(r["Stored value"], r["Change it to"]) for r in rows if r["Field"] == "format"} >= {("WMS", "wms")}
    ws = wb["Findings"]
    assert ws.freeze_panes == "D2"
    fills = {ws.cell(r, 1).value: ws.cell(r, 1).fill.fgColor.rgb[-6:] for r in range(2, ws.max_row + 1)}
    assert fills == {"error": "FFC7CE", "warning": "FFEB9C"}
    assert result.output.startswith("Inventory of the whole catalogue: 64 datasets, 511 resources, ")
    # the answers first on Summary: the findings counted, the datasets the catalogue would refuse named
    counted = _table(summary, "Findings (listed on the Findings sheet)")
    assert counted["error: the catalogue refuses to save the record"] == [sum(r["Severity"] == "error" for r in rows)]
    refused_count = int(result.output.split(" datasets the catalogue would refuse")[0].rsplit("(", 1)[1])
    refused = _table(summary, f"Datasets the catalogue would refuse to save as they are ({refused_count})")
    assert len(refused) == refused_count and all(name.endswith(")") for name in refused)
    # the record sheets are the export's: reading them back finds no changes
    assert bb.check(out).plan.records == []


def test_inventory_against_the_sandbox(sandbox, tmp_path):
    catalogue = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_ADMIN_TOKEN"])
    out = tmp_path / "branch.xlsx"
    result = build_inventory(catalogue, out, ["sample-data-branch"])
    assert result.organizations == ["sample-data-branch"]
    book = bb.read(out)
    assert {p["owner_org"] for p in book.snapshot.values()} == {BRANCH_ID}
    assert result.packages == len(book.snapshot) >= 16
    assert catalogue.calls.count("package_search") == 1


def test_the_summary_speaks_the_forms_words_and_ages_by_calendar():
    import datetime as dt

    from bcdc_bulk.inventory import summarize
    from bcdc_bulk.schema import shipped_schema

    today = dt.date(2026, 12, 5)
    packages = [{"owner_org": "o", "publish_state": state, "security_class": "PUBLIC", "license_id": "2",
                 "record_last_modified": modified, "resources": [{"bcdc_type": "document", "format": "HTML"}]}
                for state, modified in (("DRAFT", "2026-01-01"), ("PUBLISHED", "2024-12-05"),
                                        ("PUBLISHED", "2024-12-04"), ("ARCHIVED", "2027-03-01"), ("DRAFT", ""))]
    tables = {t.title: t for t in summarize(packages, {"o": "Org"}, {"2": "OGL-BC"}, today, shipped_schema())}
    by_org = tables["Datasets by organization and state"]
    assert by_org.headers[:4] == ["Organization", "Draft", "Pending Publish", "Published"]
    ages = dict(tables["Datasets by age of Record Last Modified"].rows)
    assert ages == {"up to 1 year": 1, "over 1, up to 2 years": 1, "over 2, up to 5 years": 1, "over 5 years": 0,
                    "in the future (a date to check)": 1, "no date": 1}  # exactly two years ago is 'up to 2'
    assert tables["Resources by type"].rows == [["Document/Tabular Data", 5]]


def test_who_may_see_a_record_is_asked_question_by_question_and_dates_are_dates(tmp_path):
    """Item 8 (auditors): 'Public' answers three questions and the private flag a fourth, so the
    Summary gives each its own row; the record sheets' dates are dates (a date filter works)."""
    import datetime as dt

    out = tmp_path / "inventory.xlsx"
    assert CliRunner().invoke(cli, ["-q", "inventory", "-r", str(SAMPLE), "-o", str(out)]).exit_code == 0
    packages = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    wb = openpyxl.load_workbook(out)
    seen = _table(wb["Summary"], "Who may see each dataset (each question answered separately)")
    header = next(r for r in wb["Summary"].iter_rows(values_only=True) if r[0] == "question")
    assert list(seen) == ["Who can view this record?", "Who can view this data?", "Who can download this data?",
                          "Listed in the catalogue's search? (CKAN's private flag)"]
    private = dict(zip(header[1:], seen["Listed in the catalogue's search? (CKAN's private flag)"], strict=False))
    assert private["No: private (its organization's members only)"] == sum(1 for p in packages if p.get("private"))
    assert private["Yes: not private"] == sum(1 for p in packages if not p.get("private"))
    ds = wb["Datasets"]
    col = next(c.column for c in ds[2] if c.value == "metadata_modified")
    cell = ds.cell(3, col)
    assert isinstance(cell.value, dt.datetime) and cell.number_format == "yyyy-mm-dd hh:mm"


def test_each_finding_links_to_its_record_in_the_catalogue(sandbox, tmp_path):
    catalogue = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_ADMIN_TOKEN"])
    out = tmp_path / "branch.xlsx"
    result = build_inventory(catalogue, out, ["sample-data-branch"])
    assert result.findings > 0
    ws = openpyxl.load_workbook(out)["Findings"]
    col = next(c.column for c in ws[1] if c.value == "Dataset")
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row, col)
        assert cell.hyperlink is not None and cell.hyperlink.target == f"{sandbox['CKAN_URL']}/dataset/{cell.value}"


def test_the_members_sheet_says_who_may_edit_what(sandbox, tmp_path):
    """Issue 20: every organization with its members and their role (e-mail for a sysadmin), counted
    on Summary, and the organizations nobody administers named."""
    from test_apply import Org

    org = Org(sandbox, 1)
    me = org.sysadmin.action.user_show()["name"]
    org.sysadmin.action.organization_member_delete(id=org.org["id"], username=me)  # nobody administers it now
    catalogue = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_SYSADMIN_TOKEN"])
    out = tmp_path / "members.xlsx"
    build_inventory(catalogue, out, [org.org["name"], "sample-data-branch"])
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:4] == ["Instructions", "Summary", "Findings", "Members"]
    rows = list(wb["Members"].iter_rows(values_only=True))
    assert rows[0] == ("Organization", "User", "Name", "Role", "E-mail (shown to sysadmins)")
    people = {(r[0], r[1], r[3]) for r in rows[1:]}
    assert (org.org["title"], sandbox["CKAN_EDITOR_USER"], "editor") in people
    assert {(r[1], r[3]) for r in rows[1:] if r[0] != org.org["title"]} >= {("sandbox_admin", "admin"),
                                                                            ("sandbox_editor", "editor")}
    assert all("@" in (r[4] or "") for r in rows[1:])  # a sysadmin sees the addresses
    summary = wb["Summary"]
    assert _table(summary, "Organizations with no admin (1)") == {org.org["title"]: []}
    counted = _table(summary, "Members by organization (listed on the Members sheet)")
    assert counted[org.org["title"]] == [0, 1, 0]
    as_admin = remote_catalogue(sandbox["CKAN_URL"], sandbox["CKAN_ADMIN_TOKEN"])
    build_inventory(as_admin, tmp_path / "admin.xlsx", ["sample-data-branch"])
    seen = list(openpyxl.load_workbook(tmp_path / "admin.xlsx")["Members"].iter_rows(min_row=2, values_only=True))
    assert seen and not [r for r in seen if r[4]]  # no e-mail addresses for anyone but a sysadmin
