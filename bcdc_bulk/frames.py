"""Frames: a workbook's sheets as pandas DataFrames, for auditors who work in notebooks.

One DataFrame per record sheet (Datasets, Resources, each list sheet) and per table sheet of an
inventory (Findings, Members), with the workbook's own column headers and one row per sheet row; the
values are the cells' text, as the workbook shows them. pandas is an optional extra
(``pip install 'bcdc-bulk[frames]'``): nothing else in bcdc-bulk needs it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bcdc_bulk.errors import BulkError
from bcdc_bulk.workbook_read import read_workbook

TABLE_SHEETS = ("Findings", "Members")  # inventory sheets with one header row and a row per item


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise BulkError("frames need pandas; install it with: pip install 'bcdc-bulk[frames]'") from None
    return pandas


def workbook_frames(path: Path) -> dict[str, Any]:
    """Sheet name -> DataFrame for every record sheet and table sheet of the workbook at ``path``."""
    import openpyxl

    pd = _pandas()
    book = read_workbook(path)
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        frames = {}
        for name, sheet in book.sheets.items():
            labels = [str(v or "").rstrip(" *") for v in next(wb[name].iter_rows(max_row=1, values_only=True))]
            order = sorted(sheet.columns, key=lambda f: sheet.columns[f])
            headers = [labels[sheet.columns[f]] or f for f in order]
            frames[name] = pd.DataFrame([[_text(values.get(f)) for f in order] for _, values in sheet.rows],
                                        columns=headers)
        for name in TABLE_SHEETS:
            if name in wb.sheetnames:
                rows = list(wb[name].iter_rows(values_only=True))
                frames[name] = pd.DataFrame([list(r) for r in rows[1:] if any(v is not None for v in r)],
                                            columns=[str(v or "") for v in rows[0]] if rows else [])
        return frames
    finally:
        wb.close()


def _text(value: Any) -> str:
    return "" if value is None else str(value)
