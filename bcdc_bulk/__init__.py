"""bcdc-bulk: edit a CKAN catalogue's metadata (the BC Data Catalogue) in bulk through Excel workbooks.

The round trip from Python::

    import bcdc_bulk as bb

    catalogue = bb.connect("prod", api_key=key)       # "test", a CKAN URL, or a catalogue file
    bb.export(catalogue, "my-org.xlsx", "my-organization")
    # ... people edit my-org.xlsx in Excel or LibreOffice ...
    checked = bb.check("my-org.xlsx", catalogue)       # the plan and every problem; nothing written
    for problem in checked.problems:
        print(problem.where, problem.severity, problem.message)
    if checked.valid:
        result = bb.apply("my-org.xlsx", catalogue)    # only what changed; result.rows says what happened

Errors that stop a step are bcdc_bulk.errors.BulkError (WorkbookError names the sheet, row and
column); problems in rows are data (Problem), never exceptions.
"""

from bcdc_bulk.about import VERSION as __version__
from bcdc_bulk.api import (
    ApplyResult,
    ApplySettings,
    Catalogue,
    Check,
    ExportResult,
    Fix,
    InventoryResult,
    Problem,
    ReadWorkbook,
    annotate,
    apply,
    check,
    connect,
    connect_as,
    export,
    export_mine,
    fix,
    frames,
    inventory,
    read,
    report,
    template,
)
from bcdc_bulk.errors import BulkError, WorkbookError

__all__ = ["connect", "connect_as", "export", "export_mine", "template", "read", "check", "Check", "apply",
           "report", "inventory", "annotate", "fix", "Fix", "frames", "Catalogue", "ReadWorkbook",
           "ApplySettings", "ApplyResult", "ExportResult", "InventoryResult", "Problem", "BulkError",
           "WorkbookError", "__version__"]
