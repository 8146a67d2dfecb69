"""Issue 6: the pure logic of applying (no server): conflicts, the rate limit, change descriptions."""
from __future__ import annotations

import copy

from bcdc_bulk.applying import apply_plan
from bcdc_bulk.calls import PATCH
from bcdc_bulk.errors import ServerValidationError
from bcdc_bulk.plan import CellRef, FieldChange, Plan, RecordPlan
from bcdc_bulk.problems import ValidationReport
from bcdc_bulk.results import APPLIED, CONFLICT, FAILED, ApplySettings
from bcdc_bulk.sending import RateLimiter
from bcdc_bulk.settled import sort_changes


def record(changes: list[FieldChange]) -> RecordPlan:
    before = {"id": "p1", "title": "Old", "notes": "N", "resources": [{"id": "r1", "format": "csv"}]}
    return RecordPlan(action="update", key="p1", name="p", before=before, after=before, changes=changes)


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


class PatchOnly:
    """A catalogue that keeps package_patch and refuses resource_create; reads answer as it holds now."""

    site = "https://catalogue.example.invalid"

    def __init__(self, current: dict) -> None:
        self.current, self.actions = copy.deepcopy(current), []

    def packages_by_id(self, ids: list[str]) -> dict:
        return {self.current["id"]: copy.deepcopy(self.current)}

    def package(self, ref: str) -> dict:
        return copy.deepcopy(self.current)

    def call(self, action: str, files=None, **data):
        self.actions.append(action)
        if action == "package_patch":
            self.current.update({k: v for k, v in data.items() if k != "id"})
            return copy.deepcopy(self.current)
        raise ServerValidationError("refused", {"url": ["Missing value"]})


def with_new_resource() -> RecordPlan:
    """A title edited (Datasets row 3) and a resource added (Resources row 9)."""
    new_res = {"name": "Added"}
    rec = record([FieldChange("title", "Old", "New", cell=CellRef("Datasets", 3, "C")),
                  FieldChange("resources", None, new_res, cell=CellRef("Resources", 9), new_index=1)])
    rec.after = dict(rec.before, title="New", resources=rec.before["resources"] + [new_res])
    rec.new_resources = [1]
    return rec


def apply_one(catalogue, rec: RecordPlan, tmp_path, method: str = PATCH):
    settings = ApplySettings(workers=1, backoff=0.0, method=method, journal=tmp_path / "j.jsonl")
    return apply_plan(catalogue, Plan(records=[rec]), ValidationReport(), settings, tmp_path / "w.xlsx", "w")


def test_a_record_wide_outcome_covers_every_row_of_the_record(tmp_path):
    catalogue = PatchOnly(dict(record([]).before, title="Theirs"))  # changed since the export: a conflict
    rows = apply_one(catalogue, with_new_resource(), tmp_path).rows
    assert [(r.sheet, r.row, r.status) for r in rows] == [("Datasets", 3, CONFLICT), ("Resources", 9, CONFLICT)]
    assert rows[1].changes == "Resource 'Added' added" and catalogue.actions == []


def test_each_change_and_new_resource_has_its_own_outcome(tmp_path):
    catalogue = PatchOnly(record([]).before)
    rows = apply_one(catalogue, with_new_resource(), tmp_path).rows
    assert catalogue.actions == ["package_patch", "resource_create"]
    assert [(r.row, r.status, r.attempts) for r in rows] == [(3, APPLIED, 1), (9, FAILED, 1)]
    assert rows[0].message == "" and "the catalogue refused it" in rows[1].message and "Missing value" in rows[1].message


def test_a_change_is_known_by_the_cell_it_came_from():
    title = FieldChange("title", "Old", "New", cell=CellRef("Datasets", 3, "C"))
    entries = FieldChange("contacts", [], [{"name": "A"}], cell=CellRef("Contacts", 5))
    assert (title.id, entries.id) == ("Datasets!C3", "Contacts!5")


class AlwaysFailing:
    """A catalogue whose every write fails with one HTTP status (reads answer as exported)."""

    site = "https://catalogue.example.invalid"

    def __init__(self, status: int, current: dict) -> None:
        self.status, self.current, self.writes = status, current, 0

    def packages_by_id(self, ids: list[str]) -> dict:
        return {self.current["id"]: self.current}

    def package(self, ref: str) -> dict:
        return self.current

    def call(self, action: str, files=None, **data):
        from bcdc_bulk.errors import TransientError

        self.writes += 1
        raise TransientError(f"HTTP {self.status}: KeyError: 'Published'", status=self.status, maybe_done=True)


def _apply_to(catalogue, tmp_path):
    rec = record([FieldChange("title", "Old", "New", cell=CellRef("Datasets", 3, "B"))])
    settings = ApplySettings(workers=1, backoff=0.0, retries=5, journal=tmp_path / "j.jsonl")
    return apply_plan(catalogue, Plan(records=[rec]), ValidationReport(), settings, tmp_path / "w.xlsx", "w")


def test_a_500_that_repeats_on_a_record_fails_it_after_two_tries_with_the_servers_words(tmp_path):
    catalogue = AlwaysFailing(500, record([]).before)
    [row] = _apply_to(catalogue, tmp_path).rows
    assert catalogue.writes == 2
    assert row.status == "failed" and row.attempts == 2
    assert "KeyError: 'Published'" in row.message and "the same on all 2 tries" in row.message
    assert "this is not a network fault" in row.message


def test_a_busy_server_is_retried_as_the_network_is(tmp_path):
    catalogue = AlwaysFailing(503, record([]).before)
    [row] = _apply_to(catalogue, tmp_path).rows
    assert catalogue.writes == 6 and row.status == "failed" and "tried 6 times" in row.message
