"""Issue 6: the pure logic of applying (no server): conflicts, the rate limit, change descriptions."""
from __future__ import annotations

from bcdc_bulk.applying import RateLimiter, describe, sort_changes
from bcdc_bulk.planning import CellRef, FieldChange, RecordPlan


def record(changes: list[FieldChange]) -> RecordPlan:
    before = {"id": "p1", "title": "Old", "notes": "N", "resources": [{"id": "r1", "format": "csv"}]}
    return RecordPlan("update", "p1", "p", before, before, changes=changes)


def test_changes_are_sorted_into_pending_done_and_conflicts():
    changes = [FieldChange("title", "Old", "New", cell=CellRef("Datasets", 3, "C")),
               FieldChange("notes", "N", "N2"), FieldChange("format", "csv", "xlsx", "r1"),
               FieldChange("purpose", "", "P")]
    now = {"id": "p1", "title": "Theirs", "notes": "N2", "purpose": None,
           "resources": [{"id": "r1", "format": "csv"}]}
    pending, done, conflicts = sort_changes(record(changes), now)
    assert [c.label for c in pending] == ["resources[r1].format", "purpose"]  # None and '' are the same empty
    assert [c.label for c in done] == ["notes"]
    assert conflicts == ["title: exported 'Old', now in the catalogue 'Theirs', yours 'New'"]
    gone = {"id": "p1", "title": "Old", "notes": "N", "resources": []}
    assert sort_changes(record([changes[2]]), gone)[2] == [
        "resources[r1].format: the resource was deleted in the catalogue since the export"]


def test_the_rate_limit_spaces_call_starts():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    unlimited = RateLimiter(0.0, clock=lambda: 0.0, sleep=lambda s: slept.append(s))
    unlimited.wait()
    assert len(slept) == 4


def test_a_changed_entry_is_described_by_what_differs():
    old = [{"name": "A", "email": "a@x.invalid"}, {"name": "B", "email": "b@x.invalid"}]
    new = [{"name": "A", "email": "a@x.invalid"}, {"name": "B", "email": "new@x.invalid"}, {"name": "C"}]
    assert describe(FieldChange("contacts", old, new)) == (
        "contacts #2 email: 'b@x.invalid' -> 'new@x.invalid'; contacts #3 name: '' -> 'C'")
    assert describe(FieldChange("title", "a", "b")) == "title: 'a' -> 'b'"


def test_a_record_wide_outcome_covers_every_row_of_the_record():
    from bcdc_bulk.applying import CONFLICT, _row_results

    new_res = {"name": "Added"}
    rec = record([FieldChange("title", "Old", "New", cell=CellRef("Datasets", 3, "C")),
                  FieldChange("resources", None, new_res, cell=CellRef("Resources", 9))])
    rec.after = dict(rec.before, resources=rec.before["resources"] + [new_res])
    rec.new_resources = [1]
    rows = _row_results(rec, {("record", "p1"): (CONFLICT, "changed since the export", 0)}, 0.1, {})
    assert [(r.sheet, r.row, r.status) for r in rows] == [("Datasets", 3, CONFLICT), ("Resources", 9, CONFLICT)]
    assert rows[1].changes == "new resource 'Added'"
