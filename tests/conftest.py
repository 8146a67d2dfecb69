"""Shared fixtures: the CKAN sandbox, the sample catalogue, ../shared/bcdc."""
from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

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
