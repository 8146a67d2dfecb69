"""Planning: what the user changed, found by comparing each row with the snapshot, and the records
as they will be after the edit (a Plan, see plan.py).

One planner per kind of sheet (Datasets, Resources, a repeating field's sheet) over a shared
PlanContext, chosen by the sheet's kind. Rows deleted from the workbook never delete anything: they
are listed as ignored.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

from bcdc_bulk.converters import canonical
from bcdc_bulk.diffing import CellDiff, RowDiff
from bcdc_bulk.errors import WorkbookError
from bcdc_bulk.layouts import layout_for
from bcdc_bulk.messages import Say, said
from bcdc_bulk.plan import CellRef, FieldChange, Plan, RecordPlan, RowNote
from bcdc_bulk.problems import Code, Problem, say
from bcdc_bulk.schema import Field, schema_from_dict
from bcdc_bulk.tables import (
    DATASET_KEY,
    PARENT_NAME,
    POSITION,
    PROBLEMS_FIELD,
    REMOVE_FIELD,
    RESOURCE_ID,
    RESOURCE_NAME,
    Renderer,
    SheetSpec,
    is_marked,
    language_field,
    normalize_cell,
    parse_list,
    sheet_fields,
)
from bcdc_bulk.workbook_read import ReadWorkbook, SheetRows


def renderer_for(book: ReadWorkbook) -> Renderer:
    """A renderer equal to the one that wrote the workbook (its own schema and lookups)."""
    schema = schema_from_dict(book.schema_raw)
    return Renderer(schema, layout_for(schema), book.lookups.get("organizations", {}), book.lookups.get("licences", {}),
                    book.lookups.get("organization_names", {}))


class PlanContext:
    """What the planners of every sheet share: the workbook and its renderer, the records planned so
    far, each sheet's columns and cell diff, and the plan's notes and problems."""

    def __init__(self, book: ReadWorkbook) -> None:
        self.book = book
        self.renderer = renderer_for(book)
        self.converters = self.renderer.converters
        self.packages = list(book.snapshot.values())
        self.specs = {s.name: s for s in self.renderer.sheet_specs(self.packages)}
        self.by_name = {p.get("name"): p for p in self.packages}
        self.plans: dict[str, RecordPlan] = {}  # package id or new key -> plan
        self.letters: dict[str, dict[str, str]] = {}
        self.diffs: dict[str, CellDiff] = {}
        self._group_rows: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._fields: dict[str, dict[str, Field]] = {}
        self.new_by_name: dict[str, RecordPlan] = {}
        self.present = _present(book, self.specs)  # package ids with a row on Datasets (None: no such sheet)
        self.orphans_told: set[tuple[str, str]] = set()
        self.plan = Plan()

    def record(self, pkg: dict[str, Any]) -> RecordPlan:
        """The plan of an exported package (made on first use; copied only when changed)."""
        rec = self.plans.get(pkg["id"])
        if rec is None:
            rec = RecordPlan("update", pkg["id"], pkg.get("name") or "", pkg, pkg, letters=self.letters)
            self.plans[pkg["id"]] = rec
        return rec

    def letters_of(self, sheet: SheetRows) -> None:
        """Remember where each field's column is on this sheet, for placing problems."""
        self.letters[sheet.name] = {f: sheet.letter(f) for f in sheet.columns}

    def problem(self, sheet: SheetRows, row: int, fld: str, value: Any, code: str, message: str,
                record: str = "", severity: str = "") -> None:
        """Record a problem of a row that cannot be planned as it is."""
        dataset = (self.plans[record].name if record in self.plans
                   else (self.book.snapshot.get(record) or {}).get("name") or "")
        self.plan.problems.append(Problem(sheet.name, row, sheet.letter(fld) if fld else "", fld,
                                          normalize_cell(value), code, message, severity, record, dataset=dataset))

    def diff(self, spec: SheetSpec, sheet: SheetRows) -> CellDiff:
        """The cell diff of a sheet (made once per sheet)."""
        found = self.diffs.get(sheet.name)
        if found is None:
            found = self.diffs[sheet.name] = CellDiff(spec, sheet, self.fields_of(spec))
        return found

    def changed_cells(self, sheet: SheetRows, diff: RowDiff, record_key: str, number: int | None = None) -> dict[str, str]:
        """The changed cells of a row diff; its cell issues become problems of the record ``record_key``."""
        for issue in diff.issues:
            self.problem(sheet, issue.row, issue.field, issue.value, issue.code, issue.message, record_key, issue.severity)
        if diff.read_only_edited:
            self.plan.ignored.append(RowNote(sheet.name, number, record_key, said(Say.READ_ONLY_EDITED)))
        return diff.changed

    def group_rows(self, spec: SheetSpec, pkg: dict[str, Any]) -> list[dict[str, str]]:
        """The exported rows of one package on a group sheet (rendered once per package)."""
        key = (spec.name, pkg.get("id") or "")
        found = self._group_rows.get(key)
        if found is None:
            found = self._group_rows[key] = self.renderer.group_rows(pkg, spec)
        return found

    def fields_of(self, spec: SheetSpec) -> dict[str, Field]:
        """The schema's definitions of the fields a sheet holds (a group sheet: its subfields)."""
        found = self._fields.get(spec.name)
        if found is None:
            found = self._fields[spec.name] = sheet_fields(self.renderer.schema, spec)
        return found

    def set_field(self, rec: RecordPlan, fld_name: str, text: str, fld: Field | None,
                  resource_id: str | None, cell: CellRef, exact: dict[str, Any] | None = None) -> None:
        """Set one changed field in the record's after-state, unless the change is only cosmetic.
        ``exact``: the values the cell stands for (an undo workbook's), taken to the character."""
        multilingual = self.language_of(fld_name, resource_id) if fld is None else None
        if multilingual is not None:
            self.set_language(rec, *multilingual, text, resource_id, cell)
            return
        new = copy.deepcopy(exact[fld_name]) if exact is not None and fld_name in exact else \
            self.converters.of(fld_name, fld).value(text)

        def container_of() -> dict[str, Any]:
            return rec.after if resource_id is None else next(r for r in rec.after["resources"]
                                                              if r.get("id") == resource_id)
        old = container_of().get(fld_name)
        if canonical(old) == canonical(new):
            return  # a cosmetic change (e.g. "a,b" for "a, b")
        rec.copy_before_change()
        container_of()[fld_name] = new
        rec.changes.append(FieldChange(fld_name, old, new, resource_id, cell))

    def language_of(self, column: str, resource_id: str | None) -> tuple[Field, str] | None:
        """(the multilingual field, the language) of a column such as 'title_translated-fr'; else None."""
        schema = self.renderer.schema
        return language_field(column, schema.resource_field if resource_id else schema.dataset_field)

    def language_value(self, old: Any, fld: Field, lang: str, text: str) -> dict[str, Any]:
        """A multilingual field's value with one language's text (or keywords) replaced."""
        value = dict(old) if isinstance(old, dict) else ({self.renderer.languages(fld)[0]: old} if old else {})
        value[lang] = [t.strip() for t in text.split(",") if t.strip()] if fld.fluent == "tags" else text
        return value

    def set_language(self, rec: RecordPlan, fld: Field, lang: str, text: str, resource_id: str | None,
                     cell: CellRef) -> None:
        """One language of a multilingual field: the field's value is the same with that language's
        text (or keywords) replaced, and one change a field however many of its languages changed."""
        container = rec.after if resource_id is None else next(r for r in rec.after["resources"]
                                                            if r.get("id") == resource_id)
        old = container.get(fld.name)
        value = self.language_value(old, fld, lang, text)
        if canonical(old) == canonical(value):
            return
        rec.copy_before_change()
        container = rec.after if resource_id is None else next(r for r in rec.after["resources"]
                                                            if r.get("id") == resource_id)
        container[fld.name] = value
        earlier = next((c for c in rec.changes if c.field == fld.name and c.resource_id == resource_id), None)
        if earlier is not None:
            earlier.new = value
        else:
            rec.changes.append(FieldChange(fld.name, old, value, resource_id, cell))

    def owner(self, sheet: SheetRows, number: int, values: dict[str, Any], changed: bool = True) -> RecordPlan | None:
        """The record a Resources or group row belongs to (None, reported, when there is none).
        Unchanged rows of a dataset whose row was deleted are left alone quietly."""
        name = normalize_cell(values.get(PARENT_NAME))
        pkg = self.by_name.get(name)
        if pkg is not None and self.row_gone(sheet, number, pkg, changed):
            return None
        if pkg is not None:
            return self.record(pkg)
        if name in self.new_by_name:
            return self.new_by_name[name]
        self.problem(sheet, number, PARENT_NAME, name, Code.UNKNOWN_PACKAGE,
                     say(Code.UNKNOWN_PACKAGE, "" if name else "empty", name=name))
        return None

    def row_gone(self, sheet: SheetRows, number: int, pkg: dict[str, Any], changed: bool) -> bool:
        """True when the package's row was deleted from Datasets: its rows elsewhere are not applied,
        and a changed one is reported (once per sheet and dataset)."""
        if self.present is None or pkg["id"] in self.present:
            return False
        name = pkg.get("name") or ""
        if changed and (sheet.name, name) not in self.orphans_told:
            self.orphans_told.add((sheet.name, name))
            self.problem(sheet, number, PARENT_NAME, name, Code.DELETED_PACKAGE,
                         say(Code.DELETED_PACKAGE, name=name), pkg["id"])
        return True

    def unmarked(self, sheet: SheetRows, number: int, values: dict[str, Any]) -> bool:
        """False (with a note) for a new row marked for removal: there is nothing to remove."""
        if is_marked(values.get(REMOVE_FIELD)):
            self.plan.ignored.append(RowNote(sheet.name, number, "", said(Say.NEW_ROW_REMOVED)))
            return False
        return True


class DatasetsPlanner:
    """Plans the Datasets sheet: changed fields, new datasets, removals, deleted rows."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx

    def plan(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Plan the Datasets sheet: changed fields, new datasets, deleted rows."""
        seen = set()
        for number, values in sheet.rows:
            package_id = normalize_cell(values.get(DATASET_KEY))
            if not package_id:
                self.new_package(spec, sheet, number, values)
                continue
            pkg = self.ctx.book.snapshot.get(package_id)
            if pkg is None:
                self.ctx.problem(sheet, number, DATASET_KEY, package_id, Code.UNKNOWN_RECORD,
                                 say(Code.UNKNOWN_RECORD, id=package_id), package_id)
                continue
            seen.add(package_id)
            rec = self.ctx.record(pkg)
            rec.rows_at[()] = (sheet.name, number)
            if is_marked(values.get(REMOVE_FIELD)):
                self.remove_dataset(rec, sheet, number)
                continue
            expected = self.ctx.renderer.dataset_row(pkg)
            shown = self.ctx.book.shown.get(package_id)
            row_diff = self.ctx.diff(spec, sheet).row(number, values, expected,
                                                  self.ctx.renderer.dataset_row(shown) if shown else None)
            for fld, text in self.ctx.changed_cells(sheet, row_diff, package_id, number).items():
                self.ctx.set_field(rec, fld, text, self.ctx.fields_of(spec).get(fld), None,
                               CellRef(sheet.name, number, sheet.letter(fld)), shown if fld in row_diff.exact else None)
        for pkg in self.ctx.packages:
            if pkg["id"] not in seen:
                self.ctx.plan.ignored.append(RowNote(sheet.name, None, pkg.get("name") or pkg["id"],
                                                 said(Say.DELETED_DATASET_ROW)))

    def remove_dataset(self, rec: RecordPlan, sheet: SheetRows, number: int) -> None:
        """A Datasets row marked for removal: the dataset is deleted (its other edits are moot)."""
        rec.action = "delete"
        rec.changes.append(FieldChange("state", (rec.before or {}).get("state") or "active", "deleted", None,
                                       CellRef(sheet.name, number, sheet.letter(REMOVE_FIELD)), removal=True))

    def new_package(self, spec: SheetSpec, sheet: SheetRows, number: int, values: dict[str, Any]) -> None:
        """A Datasets row without an id: a dataset to create."""
        if not self.ctx.unmarked(sheet, number, values):
            return
        name = normalize_cell(values.get("name"))
        key = f"new:{sheet.name}:{number}"
        # without its type CKAN would create a plain dataset, outside the catalogue's schema
        after: dict[str, Any] = {"type": self.ctx.renderer.schema.dataset_type, "resources": []}
        rec = RecordPlan("create", key, name, None, after, letters=self.ctx.letters, _copied=True)
        rec.rows_at[()] = (sheet.name, number)
        for fld, text in self.ctx.changed_cells(sheet, self.ctx.diff(spec, sheet).new_row(number, values), key).items():
            after[fld] = self.ctx.converters.of(fld, self.ctx.fields_of(spec).get(fld)).value(text)
            rec.changes.append(FieldChange(fld, None, after[fld], None, CellRef(sheet.name, number, sheet.letter(fld))))
        if name:  # (a name used twice is validation's to report, with the other clashes)
            self.ctx.new_by_name[name] = rec
        self.ctx.plans[key] = rec


class ResourcesPlanner:
    """Plans the Resources sheet: changed fields, new resources, removals, deleted rows."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx

    def plan(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Plan the Resources sheet: changed fields, new resources, deleted rows."""
        res_index = {r.get("id"): (p, i) for p in self.ctx.packages for i, r in enumerate(p.get("resources") or [])}
        rendered = {row[DATASET_KEY]: row for p in self.ctx.packages for row in self.ctx.renderer.resource_rows(p)
                    if row.get(DATASET_KEY)}
        seen = set()
        for number, values in sheet.rows:
            resource_id = normalize_cell(values.get(DATASET_KEY))
            if not resource_id:
                self.new_resource(spec, sheet, number, values)
                continue
            if resource_id not in res_index:
                self.ctx.problem(sheet, number, DATASET_KEY, resource_id, Code.UNKNOWN_RECORD,
                                 say(Code.UNKNOWN_RECORD, "resource", id=resource_id))
                continue
            pkg, index = res_index[resource_id]
            seen.add(resource_id)
            diff = self.ctx.diff(spec, sheet)
            changed = is_marked(values.get(REMOVE_FIELD)) or diff.differs(values, rendered[resource_id])
            if self.ctx.row_gone(sheet, number, pkg, changed):
                continue
            if normalize_cell(values.get(PARENT_NAME)) != (pkg.get("name") or ""):
                self.ctx.problem(sheet, number, PARENT_NAME, values.get(PARENT_NAME), Code.RESOURCE_MOVED,
                                 say(Code.RESOURCE_MOVED, name=pkg.get("name")), pkg["id"])
                continue
            rec = self.ctx.record(pkg)
            rec.rows_at[("resources", index)] = (sheet.name, number)
            if is_marked(values.get(REMOVE_FIELD)):
                resource = (pkg.get("resources") or [])[index]
                rec.changes.append(FieldChange("resources", resource, None, resource_id,
                                               CellRef(sheet.name, number, sheet.letter(REMOVE_FIELD)), removal=True))
                continue
            shown = self.shown_resource(pkg["id"], resource_id)
            row_diff = diff.row(number, values, rendered[resource_id], self.shown_row(pkg["id"], resource_id))
            for fld, text in self.ctx.changed_cells(sheet, row_diff, pkg["id"], number).items():
                self.ctx.set_field(rec, fld, text, self.ctx.fields_of(spec).get(fld), resource_id,
                               CellRef(sheet.name, number, sheet.letter(fld)), shown if fld in row_diff.exact else None)
        for resource_id, (pkg, _) in res_index.items():
            if resource_id not in seen and (self.ctx.present is None or pkg["id"] in self.ctx.present):
                self.ctx.plan.ignored.append(RowNote(sheet.name, None, f"{pkg.get('name')}/{resource_id}",
                                                 said(Say.DELETED_RESOURCE_ROW)))

    def shown_resource(self, package_id: str, resource_id: str) -> dict[str, Any] | None:
        """The exact resource an undo workbook's row stands for (None in an export)."""
        shown = self.ctx.book.shown.get(package_id)
        return next((r for r in shown.get("resources") or [] if r.get("id") == resource_id), None) if shown else None

    def shown_row(self, package_id: str, resource_id: str) -> dict[str, str] | None:
        """The Resources row an undo workbook wrote for this resource (None in an export)."""
        shown = self.ctx.book.shown.get(package_id)
        return next((r for r in self.ctx.renderer.resource_rows(shown) if r.get(DATASET_KEY) == resource_id),
                    None) if shown else None

    def new_resource(self, spec: SheetSpec, sheet: SheetRows, number: int, values: dict[str, Any]) -> None:
        """A Resources row without an id: a resource to add to its dataset."""
        if not self.ctx.unmarked(sheet, number, values):
            return
        rec = self.ctx.owner(sheet, number, values)
        if rec is None:
            return
        resource: dict[str, Any] = {}
        rec.copy_before_change()
        index = len(rec.after.setdefault("resources", []))
        for fld, text in self.ctx.changed_cells(sheet, self.ctx.diff(spec, sheet).new_row(number, values), rec.key).items():
            resource[fld] = self.ctx.converters.of(fld, self.ctx.fields_of(spec).get(fld)).value(text)
        rec.rows_at[("resources", index)] = (sheet.name, number)
        rec.after["resources"].append(resource)
        rec.new_resources.append(index)
        rec.changes.append(FieldChange("resources", None, resource, None, CellRef(sheet.name, number), new_index=index))


class GroupsPlanner:
    """Plans a sheet of a repeating field (contacts, a resource's extents ...): each owner's
    entries, rebuilt when any of its rows changed; rows deleted from the sheet are kept, and said so."""

    def __init__(self, ctx: PlanContext) -> None:
        self.ctx = ctx

    def plan(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Plan a repeating-group sheet: its entries, and the rows deleted from it."""
        self.entries(spec, sheet)
        self.deleted_entries(spec, sheet)

    def entries(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Each owner's entries, rebuilt when any of its rows changed."""
        assert spec.group is not None
        by_owner: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
        for number, values in sheet.rows:
            owner_key = (normalize_cell(values.get(PARENT_NAME)),
                         normalize_cell(values.get(RESOURCE_ID)) or normalize_cell(values.get(RESOURCE_NAME)))
            by_owner.setdefault(owner_key, []).append((number, values))
        subfields = self.ctx.fields_of(spec)
        for (pkg_name, res_key), rows in by_owner.items():
            changed = self._group_changed(spec, sheet, pkg_name, rows)
            rec = self.ctx.owner(sheet, rows[0][0], rows[0][1], changed)
            if rec is None:
                continue
            if changed:
                rec.copy_before_change()
            if spec.owner == "dataset":
                container, base_path, resource_id = rec.after, (), None
            else:
                found = self._resource_holder(rec, res_key)
                if found is None:
                    self.ctx.problem(sheet, rows[0][0], RESOURCE_ID, res_key, Code.UNKNOWN_RESOURCE,
                                     say(Code.UNKNOWN_RESOURCE, name=pkg_name, resource=res_key), rec.key)
                    continue
                index, container = found
                base_path, resource_id = ("resources", index), container.get("id")
            if changed:
                self._group_entries(spec, sheet, rec, container, base_path, resource_id, rows, subfields)
                continue
            # unchanged: entries keep their positions; remember where they are, for problems
            rec.rows_at.setdefault(base_path + (spec.group,), (sheet.name, rows[0][0]))
            for number, values in rows:
                try:
                    position = int(float(normalize_cell(values.get(POSITION))))
                except ValueError:
                    continue
                rec.rows_at[base_path + (spec.group, position - 1)] = (sheet.name, number)

    def deleted_entries(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Every exported entry whose row was deleted from a group sheet is kept, and said so, whether
        or not anything else of its dataset changed."""
        group = spec.group or ""
        present: dict[str, set[tuple[str, str]]] = {}
        for _, values in sheet.rows:
            present.setdefault(normalize_cell(values.get(PARENT_NAME)), set()).add(
                (normalize_cell(values.get(RESOURCE_ID)), normalize_cell(values.get(POSITION))))
        for pkg in self.ctx.packages:
            if self.ctx.present is not None and pkg["id"] not in self.ctx.present:
                continue  # the whole dataset row was deleted: said once, on Datasets
            holders = [pkg] if spec.owner == "dataset" else (pkg.get("resources") or [])
            if not any(parse_list(h.get(group)) for h in holders):
                continue  # nothing exported here (cheap: most records, no rendering)
            rows = present.get(pkg.get("name") or "", set())
            for row in self.ctx.group_rows(spec, pkg):
                if (row.get(RESOURCE_ID) or "", row[POSITION]) in rows:
                    continue
                owner = pkg.get("name") or ""
                if spec.owner == "resource":
                    owner += f" / {row.get(RESOURCE_NAME) or row.get(RESOURCE_ID)}"
                self.ctx.plan.ignored.append(RowNote(sheet.name, None, owner, said(Say.DELETED_ENTRY, number=row[POSITION])))

    def _group_changed(self, spec: SheetSpec, sheet: SheetRows, pkg_name: str,
                       rows: list[tuple[int, dict[str, Any]]]) -> bool:
        pkg = self.ctx.by_name.get(pkg_name)
        if pkg is None:
            return True
        rendered = {(r.get(RESOURCE_ID) or "", r[POSITION]): r for r in self.ctx.group_rows(spec, pkg)}
        diff = self.ctx.diff(spec, sheet)
        return any(is_marked(values.get(REMOVE_FIELD)) or diff.differs(
            values, rendered.get((normalize_cell(values.get(RESOURCE_ID)), normalize_cell(values.get(POSITION))), {}))
            for _, values in rows)

    def _resource_holder(self, rec: RecordPlan, key: str) -> tuple[int, dict[str, Any]] | None:
        for i, res in enumerate(rec.after.get("resources") or []):
            if key and key in (res.get("id"), res.get("name")):
                return i, res
        return None

    def _group_entries(self, spec: SheetSpec, sheet: SheetRows, rec: RecordPlan, container: dict[str, Any],
                       base_path: tuple, resource_id: str | None, rows: list[tuple[int, dict[str, Any]]],
                       subfields: dict[str, Field]) -> None:
        assert spec.group is not None
        group = spec.group
        old_entries = parse_list(container.get(group))
        pkg = rec.before or {}
        rendered = {r[POSITION]: r for r in self.ctx.group_rows(spec, pkg)
                    if (r.get(RESOURCE_ID) or "") == (resource_id or "")} if rec.before else {}
        diff = self.ctx.diff(spec, sheet)
        entries: dict[int, dict[str, Any]] = {i + 1: copy.deepcopy(e) for i, e in enumerate(old_entries)}
        exact = self.shown_entries(spec, rec, resource_id)
        touched: list[int] = []  # the rows whose entry changed: the report names the first
        cells: dict[int, int] = {}
        last = max([len(old_entries)] + [int(p) for p in (normalize_cell(v.get(POSITION)) for _, v in rows)
                                          if p.isdigit()])
        for number, values in rows:
            pos_text = normalize_cell(values.get(POSITION))
            if not pos_text:  # a new row with its # left empty goes after the others, as a person expects
                last += 1
                pos_text = str(last)
            try:
                position = int(float(pos_text))
            except ValueError:
                self.ctx.problem(sheet, number, POSITION, pos_text, Code.POSITION, say(Code.POSITION), rec.key)
                continue
            if position in cells:
                self.ctx.problem(sheet, number, POSITION, pos_text, Code.DUPLICATE_POSITION,
                                 say(Code.DUPLICATE_POSITION, position=position, name=rec.name,
                                     first=cells[position], second=number), rec.key)
                continue
            cells[position] = number
            old_row = rendered.get(str(position), {})
            if is_marked(values.get(REMOVE_FIELD)):
                if entries.pop(position, None) is not None:
                    touched.append(number)
                continue
            shown_entry, target = exact.get(position, (None, None))
            row_diff = diff.row(number, values, old_row, target) if old_row or target else diff.new_row(number, values)
            changed = self.ctx.changed_cells(sheet, row_diff, rec.key, number)
            if not changed:
                continue
            if shown_entry is not None and set(changed) == row_diff.exact:
                entries[position] = copy.deepcopy(shown_entry)  # the entry the undo puts back, to the character
            else:
                entry = entries.setdefault(position, {})
                for fld, text in changed.items():
                    multilingual = language_field(fld, subfields.get)
                    if multilingual is not None:
                        entry[multilingual[0].name] = self.ctx.language_value(entry.get(multilingual[0].name),
                                                                          *multilingual, text)
                        continue
                    entry[fld] = copy.deepcopy(shown_entry[fld]) if shown_entry and fld in row_diff.exact else \
                        self.ctx.converters.of(fld, subfields.get(fld), group).value(text)
            touched.append(number)
        new_entries = self._place_entries(rec, sheet, base_path, group, entries, cells, rows)
        if touched:
            self._group_change(spec, sheet, rec, container, base_path, resource_id, old_entries, new_entries, touched[0])

    def shown_entries(self, spec: SheetSpec, rec: RecordPlan, resource_id: str | None
                      ) -> dict[int, tuple[dict[str, Any], dict[str, str]]]:
        """position -> (the exact entry, its rendered row) an undo workbook's group rows stand for ({} in an export)."""
        shown = self.ctx.book.shown.get(rec.key)
        if not shown:
            return {}
        container = shown if resource_id is None else next(
            (r for r in shown.get("resources") or [] if r.get("id") == resource_id), {})
        entries = parse_list(container.get(spec.group or ""))
        rows = [r for r in self.ctx.renderer.group_rows(shown, spec) if (r.get(RESOURCE_ID) or "") == (resource_id or "")]
        return {int(r[POSITION]): (entries[int(r[POSITION]) - 1], r) for r in rows}

    def _place_entries(self, rec: RecordPlan, sheet: SheetRows, base_path: tuple, group: str,
                       entries: dict[int, dict[str, Any]], cells: dict[int, int],
                       rows: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The entries in their new order (an entry whose every cell was cleared is removed), each
        remembered at its row, for placing problems."""
        ordered = [entries[p] for p in sorted(entries)]
        new_entries = [e for e in ordered if any(v not in ("", None, []) for v in e.values())]
        new_positions = [p for p in sorted(entries) if entries[p] in new_entries]
        for i, position in enumerate(new_positions):
            if position in cells:
                rec.rows_at[base_path + (group, i)] = (sheet.name, cells[position])
        if rows:
            rec.rows_at.setdefault(base_path + (group,), (sheet.name, rows[0][0]))
        return new_entries

    def _group_change(self, spec: SheetSpec, sheet: SheetRows, rec: RecordPlan, container: dict[str, Any],
                      base_path: tuple, resource_id: str | None, old_entries: list[dict[str, Any]],
                      new_entries: list[dict[str, Any]], first_changed: int) -> None:
        """Record a list whose entries really changed (a new resource's lists go with it), placed at the
        first row that changed."""
        group = spec.group or ""
        old_value = container.get(group)
        if canonical(old_entries) == canonical(new_entries):
            return
        container[group] = new_entries
        cell = CellRef(sheet.name, first_changed)
        if spec.owner == "resource" and base_path[1] in rec.new_resources:
            return  # part of a new resource: sent with it
        if rec.action == "create":
            if spec.owner == "dataset":
                rec.changes.append(FieldChange(group, None, new_entries, None, cell))
            return
        rec.changes.append(FieldChange(group, old_value, new_entries, resource_id, cell))


def _own_columns(plan: Plan, spec: SheetSpec, sheet: SheetRows) -> None:
    """Columns the tool did not write are the user's own and are ignored, with a note; but a
    field name typed over one of ours (ours missing, an unknown one present) would lose its edits."""
    known = {c.field for c in spec.columns} | {PROBLEMS_FIELD}
    unknown = [name for name in sheet.columns if name not in known]
    missing = [c.field for c in spec.columns if c.field not in sheet.columns and not c.read_only]
    if unknown and missing:
        name = unknown[0]
        raise WorkbookError(said(Say.FIELD_NAME_UNKNOWN, name=name, missing=missing[0]), sheet=spec.name, row=2,
                            column=sheet.letter(name))
    for name in unknown:
        plan.ignored.append(RowNote(spec.name, None, "", said(Say.UNKNOWN_COLUMN, letter=sheet.letter(name), name=name)))


def _present(book: ReadWorkbook, specs: dict[str, SheetSpec]) -> set[str] | None:
    """The exported packages that still have their row on the Datasets sheet (known before any sheet is
    planned, so rows of other sheets can tell a deleted dataset from an unchanged one)."""
    sheet = next((book.sheets.get(s.name) for s in specs.values() if s.kind == "dataset"), None)
    if sheet is None:
        return None
    return {key for _, values in sheet.rows if (key := normalize_cell(values.get(DATASET_KEY))) in book.snapshot}


class SheetPlanner(Protocol):
    """Plans one kind of sheet into the shared context's records."""

    def plan(self, spec: SheetSpec, sheet: SheetRows) -> None:
        """Plan every row of ``sheet``."""


PLANNERS: dict[str, Callable[[PlanContext], SheetPlanner]] = {
    "dataset": DatasetsPlanner, "resource": ResourcesPlanner, "group": GroupsPlanner}


def build_plan(book: ReadWorkbook) -> Plan:
    """The Plan of a workbook: every record that changed or is new, as it will be after the edit."""
    builder = PlanContext(book)
    planners = {kind: planner(builder) for kind, planner in PLANNERS.items()}
    # Datasets first: the other sheets' rows find their records (new ones too) by URL name
    order = sorted(builder.specs.values(), key=lambda s: {"dataset": 0, "resource": 1}.get(s.kind, 2))
    for spec in order:
        sheet = book.sheets.get(spec.name)
        if sheet is None:
            continue
        builder.letters_of(sheet)
        _own_columns(builder.plan, spec, sheet)
        planners[spec.kind].plan(spec, sheet)
    plan = builder.plan
    plan.schema = builder.renderer.schema
    plan.converters = builder.converters
    exported_from = str(book.provenance.get("site") or "")
    plan.site = exported_from if exported_from.startswith(("http://", "https://")) else ""
    plan.labels = {(spec.group or spec.kind, c.field): c.label for spec in builder.specs.values()
                   for c in spec.columns}
    plan.labels.update({("sheet", spec.group): spec.name for spec in builder.specs.values() if spec.group})
    plan.records = [r for r in builder.plans.values() if r.action == "create" or r.changes]
    plan.problems.sort(key=lambda p: (p.sheet, p.row or 0, p.column))
    return plan
