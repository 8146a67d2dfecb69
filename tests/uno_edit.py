"""Edit a workbook in real LibreOffice Calc through its UNO API, as a person does in the GUI.

Run with the system Python that has LibreOffice's `uno` module (Debian: python3-uno):

    /usr/bin/python3 tests/uno_edit.py PORT IN.xlsx OUT.(xlsx|ods) 'JSON list of steps'

A LibreOffice must listen on PORT (soffice --headless --accept="socket,host=127.0.0.1,port=PORT;urp;").
Steps (cells are A1 references on the named sheet):
  {"op": "type", "sheet": S, "cell": C, "text": T}        typed into the cell (LibreOffice parses it as typing does)
  {"op": "sort", "sheet": S, "column": C, "descending": B} sort the data rows (3..last) by a column
  {"op": "delete_rows", "sheet": S, "row": R, "count": N}
  {"op": "insert_rows", "sheet": S, "row": R, "count": N}
  {"op": "fill_down", "sheet": S, "range": "F3:F5"}       the fill handle dragged from the first cell
  {"op": "paste", "sheet": S, "from": "H3", "to": "H4"}   copy a cell and paste it from the target cell on
  {"op": "rename_sheet", "sheet": S, "to": NEW}
  {"op": "remove_sheet", "sheet": S}
  {"op": "filter", "sheet": S, "column": C, "equals": V}  a standard filter on the data rows, left on
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.table import CellRangeAddress  # type: ignore[import-not-found]

FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".ods": "calc8"}


def props(**values: Any) -> tuple:
    """UNO property values from keyword arguments."""
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


REMOTE: dict[str, Any] = {}  # the office's component context, once connected


def connect(port: int) -> Any:
    """The desktop of the LibreOffice listening on ``port``."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
    REMOTE["ctx"] = ctx
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


def last_row(sheet: Any) -> int:
    """The 0-based index of the last used row."""
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    return cursor.getRangeAddress().EndRow


def data_range(sheet: Any) -> Any:
    """Rows 3..last, all used columns (what a person selects to sort or filter)."""
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    end = cursor.getRangeAddress()
    return sheet.getCellRangeByPosition(0, 2, end.EndColumn, end.EndRow)


def column_index(sheet: Any, letter: str) -> int:
    """0-based index of a column letter."""
    return sheet.getCellRangeByName(f"{letter}1").getCellAddress().Column


def type_into(doc: Any, sheet: Any, cell: str, text: str) -> None:
    """Type into a cell as the input line does (the cell's format decides: a Text cell keeps '0123')."""
    controller = doc.getCurrentController()
    controller.setActiveSheet(sheet)
    controller.select(sheet.getCellRangeByName(cell))
    frame = controller.getFrame()
    ctx = REMOTE["ctx"]
    dispatcher = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
    dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, props(StringName=text))


def step(doc: Any, op: dict[str, Any]) -> None:
    """Carry out one step on the document."""
    sheets = doc.getSheets()
    sheet = sheets.getByName(op["sheet"])
    kind = op["op"]
    if kind == "type":
        type_into(doc, sheet, op["cell"], op["text"])
    elif kind == "sort":
        fields = uno.createUnoStruct("com.sun.star.table.TableSortField")
        fields.Field = column_index(sheet, op["column"])
        fields.IsAscending = not op.get("descending", False)
        data_range(sheet).sort(props(SortFields=uno.Any("[]com.sun.star.table.TableSortField", (fields,)),
                                     ContainsHeader=False))
    elif kind == "delete_rows":
        sheet.getRows().removeByIndex(op["row"] - 1, op.get("count", 1))
    elif kind == "insert_rows":
        sheet.getRows().insertByIndex(op["row"] - 1, op.get("count", 1))
    elif kind == "fill_down":
        from com.sun.star.sheet.FillDirection import TO_BOTTOM  # type: ignore[import-not-found]

        sheet.getCellRangeByName(op["range"]).fillAuto(TO_BOTTOM, 1)
    elif kind == "paste":
        source = sheet.getCellRangeByName(op["from"]).getRangeAddress()
        sheet.copyRange(sheet.getCellRangeByName(op["to"]).getCellAddress(), source)
    elif kind == "rename_sheet":
        sheet.setName(op["to"])
    elif kind == "remove_sheet":
        sheets.removeByName(op["sheet"])
    elif kind == "filter":
        target = data_range(sheet)
        descriptor = target.createFilterDescriptor(True)
        field = uno.createUnoStruct("com.sun.star.sheet.TableFilterField")
        field.Field = column_index(sheet, op["column"])
        field.IsNumeric = False
        field.StringValue = op["equals"]
        descriptor.setFilterFields((field,))
        target.filter(descriptor)
    else:
        raise SystemExit(f"unknown step {kind}")


def main() -> None:
    """Open, edit, save under the new name (its extension picks the format), close."""
    port, source, target, steps = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])
    desktop = connect(port)
    doc = desktop.loadComponentFromURL(source.resolve().as_uri(), "_blank", 0, props(Hidden=True))
    try:
        for op in steps:
            step(doc, op)
        doc.storeToURL(target.resolve().as_uri(), props(FilterName=FILTERS[target.suffix]))
    finally:
        doc.close(True)


if __name__ == "__main__":
    import os

    _ = CellRangeAddress  # imported so a missing UNO type fails at start, not mid-edit
    main()
    sys.stdout.flush()
    os._exit(0)  # the UNO bridge can crash while the interpreter tears it down, after the work is done
