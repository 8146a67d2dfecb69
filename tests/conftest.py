"""Shared fixtures: the CKAN sandbox, the sample catalogue, ../shared/bcdc."""
from __future__ import annotations

import functools
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "tests" / "ckan_sandbox"
SAMPLE = ROOT / "sample_data" / "catalogue.jsonl"
SHARED = ROOT.parent / "shared" / "bcdc"
sys.path.insert(0, str(ROOT / "sample_data"))


def _read_env() -> dict[str, str]:
    path = SANDBOX / ".state" / "env"
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/3/action/status_show", timeout=5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def sandbox() -> dict[str, str]:
    """URL and tokens of the running sandbox; starts it when needed (never skipped)."""
    env = _read_env()
    if not env or not _alive(env["CKAN_URL"]):
        subprocess.run(["bash", str(SANDBOX / "start.sh")], check=True)
        env = _read_env()
    return env


@pytest.fixture
def ckan_as(sandbox):
    """ckanapi clients by role: ckan_as('admin')."""
    import ckanapi

    def make(role: str) -> ckanapi.RemoteCKAN:
        return ckanapi.RemoteCKAN(sandbox["CKAN_URL"], apikey=sandbox[f"CKAN_{role.upper()}_TOKEN"])

    return make


@pytest.fixture(scope="session")
def shared_records() -> Path:
    """../shared/bcdc/records, or skip when this clone has no ../shared."""
    if not (SHARED / "records").is_dir():
        pytest.skip("../shared/bcdc is not present")
    return SHARED / "records"


# What a user types on a new row: every required value, nothing more.
NEW_DATASET = {"publish_state": "DRAFT", "notes": "New.", "license_id": "2", "tags": "new",
               "security_class": "PUBLIC", "view_audience": "Public", "download_audience": "Public",
               "metadata_visibility": "Public", "resource_status": "onGoing"}
NEW_RESOURCE = {"bcdc_type": "document", "format": "csv", "resource_update_cycle": "monthly",
                "resource_storage_location": "external", "resource_type": "data",
                "resource_access_method": "direct access"}


def columns(ws) -> dict[str, int]:
    """A sheet's columns by the field name in row 2 (what bcdc-bulk reads)."""
    return {c.value: c.column for c in ws[2]}


def export_open(world: Any, path: Path) -> Any:
    """Export a test world's organization to ``path`` and open the workbook to edit it (openpyxl)."""
    import openpyxl

    import bcdc_bulk as bb

    bb.export(world.catalogue, path, world.org)
    return openpyxl.load_workbook(path)


def put_row(ws, values: dict, row: int | None = None) -> int:
    """Type ``values`` (by field name, row 2) into a new row below the data (or ``row``); returns the row."""
    cols = columns(ws)
    row = row or max(ws.max_row + 1, 3)
    for field, value in values.items():
        ws.cell(row, cols[field]).value = value
    return row


def row_of(ws, name: str, nth: int = 1) -> int:
    """The row of dataset ``name`` on a sheet (Datasets: by URL name; other sheets: its ``nth`` row
    there), so a test names the record it edits, whatever order the export writes them in."""
    cols = columns(ws)
    key = cols["name"] if ws.title == "Datasets" else cols["package_name"]
    rows = [r for r in range(3, ws.max_row + 1) if ws.cell(r, key).value == name]
    return rows[nth - 1]


def pytest_collection_modifyitems(config, items) -> None:
    """Every test that needs the CKAN sandbox (directly or through another fixture) is marked
    `sandbox`, so `pytest -m "not sandbox"` runs the rest on a machine with no server."""
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)


@functools.cache
def other_catalogue(kind: str, folder: str) -> dict[str, str]:
    """URL and sysadmin token of another real CKAN beside the sandbox (start_other.sh KIND), started
    when needed; skipped when it needs ../shared and that is absent (exit 3)."""
    done = subprocess.run(["bash", str(SANDBOX / "start_other.sh"), kind], capture_output=True, text=True)
    if done.returncode == 3:
        pytest.skip(f"{kind} needs ../shared/ckan-schemas, which is not present")
    assert done.returncode == 0, done.stderr[-2000:]
    env = SANDBOX / ".state" / folder / "env"
    return dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)


def fresh_organization(kind: str, folder: str, prefix: str) -> tuple[Any, dict[str, Any], Any]:
    """(ckanapi as the sysadmin, a new organization, bcdc-bulk's catalogue as the sysadmin) on another
    CKAN beside the sandbox (other_catalogue's)."""
    env = other_catalogue(kind, folder)
    import uuid

    import ckanapi

    from bcdc_bulk.ckan_catalogue import remote_catalogue

    ckan = ckanapi.RemoteCKAN(env["CKAN_URL"], apikey=env["CKAN_SYSADMIN_TOKEN"])
    run = uuid.uuid4().hex[:8]
    org = ckan.action.organization_create(name=f"{prefix}-{run}", title=f"{prefix.capitalize()} {run}")
    return ckan, org, remote_catalogue(env["CKAN_URL"], env["CKAN_SYSADMIN_TOKEN"])
