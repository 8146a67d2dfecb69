"""What an uploaded file must be before anything reads it: not too big, an .xlsx (a zip), and not a
zip bomb; then a workbook exported from this catalogue for this organization. Each refusal is a
sentence for the person who uploaded it."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import bcdc_bulk as bb
from bcdc_bulk.errors import WorkbookError

MB = 1024 * 1024
MAX_RATIO = 100  # an xlsx compresses about 5-15 times; far more is a bomb


@dataclass(frozen=True)
class Limits:
    """How big an upload may be, as sent and unpacked."""

    max_bytes: int = 20 * MB
    max_unpacked: int = 400 * MB


def check_upload(filename: str, data: bytes, limits: Limits) -> None:
    """Refuse, with why and what to do, a file that is not a workbook bcdc-bulk may open."""
    if not data:
        raise WorkbookError("the file is empty: choose the workbook you edited and upload it again")
    if len(data) > limits.max_bytes:
        raise WorkbookError(f"the file is {len(data) / MB:.1f} MB, more than the {limits.max_bytes / MB:.0f} MB "
                            "this catalogue takes; split the records over several workbooks")
    lower = filename.lower()
    if lower.endswith(".ods"):
        raise WorkbookError("this is an OpenDocument spreadsheet (.ods): in LibreOffice choose File > Save As, "
                            "'Excel 2007-365 (.xlsx)', and upload that file")
    if not data.startswith(b"PK\x03\x04"):
        kind = "an old Excel file (.xls)" if lower.endswith(".xls") else (
            "a CSV file" if lower.endswith(".csv") else "not an Excel workbook")
        raise WorkbookError(f"'{filename}' is {kind}; upload the .xlsx workbook that was downloaded here, "
                            "saved as Excel Workbook (.xlsx)")
    _check_zip(filename, data, limits)


def _check_zip(filename: str, data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise WorkbookError(f"'{filename}' is damaged (it is not a complete .xlsx); save it again from Excel "
                            "and upload the saved file") from None
    if unpacked > limits.max_unpacked or unpacked > MAX_RATIO * max(len(data), 1):
        raise WorkbookError(f"'{filename}' unpacks to {unpacked / MB:,.0f} MB, far more than any workbook of "
                            "records; it was refused unopened")
    if "xl/workbook.xml" not in names:
        raise WorkbookError(f"'{filename}' is {_what_zip(names)}, not an Excel workbook; upload the .xlsx workbook "
                            "that was downloaded here (renaming a file does not change what is in it)")


def _what_zip(names: set[str]) -> str:
    """What kind of document a zip file that is not a workbook is, in words."""
    if "word/document.xml" in names:
        return "a Word document"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint presentation"
    if "content.xml" in names:
        return "an OpenDocument file"
    return "a zip file"


def check_origin(book: bb.ReadWorkbook, site: str, org_name: str) -> None:
    """Refuse a workbook exported from another catalogue, or for another organization (a template,
    or an undo workbook, names no organization and may be used on any)."""
    exported = str(book.provenance.get("site") or "").rstrip("/")
    if exported and exported != site.rstrip("/"):
        raise WorkbookError(f"this workbook was exported from {exported}, not from this catalogue; "
                            "download the records here and make the edits in that workbook")
    organizations = list(book.provenance.get("organizations") or [])
    if organizations and org_name not in organizations:
        raise WorkbookError(f"this workbook was exported for {', '.join(organizations)}, not {org_name}; "
                            f"upload it on the page of {organizations[0]}")
