"""Issue 20: pandas is not a dependency nothing uses: auditors in notebooks get the workbook's sheets
as DataFrames with the workbook's own headers (bb.frames), and pandas is an optional extra."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import bcdc_bulk as bb
from bcdc_bulk.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "catalogue.jsonl"


def test_pandas_is_an_optional_extra_only():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("pandas")]
    assert project["optional-dependencies"]["frames"] == ["pandas>=2.0"]


def test_frames_have_the_workbooks_headers_and_rows(tmp_path):
    pytest.importorskip("pandas")
    path = tmp_path / "inventory.xlsx"
    result = CliRunner().invoke(cli, ["-q", "inventory", "-r", str(SAMPLE), "--org", "sample-data-branch",
                                      "-o", str(path)])
    assert result.exit_code == 0, result.output
    frames = bb.frames(path)
    wb = openpyxl.load_workbook(path)
    datasets = frames["Datasets"]
    assert list(datasets.columns)[:4] == ["URL name", "Title", "Published By", "State"]
    assert len(datasets) == wb["Datasets"].max_row - 2
    assert set(datasets["Published By"]) == {"Sample Data Branch"}
    findings = frames["Findings"]
    assert list(findings.columns) == [c.value for c in wb["Findings"][1]]
    assert len(findings) == int(result.output.split(" findings")[0].rsplit(" ", 1)[1])
    assert {"Resources", "Contacts"} <= set(frames)
