"""Issue 13: one converter per field kind, used by the writer, the reader and the validator (no server)."""
from __future__ import annotations

import pytest

from bcdc_bulk.converters import DISPLAYED, Converters, Kind, field_kind, same_value, stored_displayed
from bcdc_bulk.schema import shipped_schema
from bcdc_bulk.tables import Renderer, load_layout
from bcdc_bulk.validation import CatalogueFacts, Compiler

SCHEMA = shipped_schema()
ORGS = {"org-1": "bc-wildfire", "org-2": "geobc"}
LICENCES = {"2": "Open Government Licence - British Columbia", "22": "Access Only"}
CONVERTERS = Converters(SCHEMA, ORGS, LICENCES)


def conv(name: str, group: str | None = None, owner: str = "dataset"):
    if group:
        parent = SCHEMA.dataset_field(group) if owner == "dataset" else SCHEMA.resource_field(group)
        fld = next((s for s in parent.subfields if s.name == name), None) if parent else None
    else:
        fld = SCHEMA.dataset_field(name) if owner == "dataset" else SCHEMA.resource_field(name)
    return CONVERTERS.of(name, fld, group)


# (field, group, owner, stored value, the cell's text): text(value) == cell and value(cell) == value
ROUND_TRIPS = [
    ("title", None, "dataset", "Fire  perimeters ", "Fire  perimeters "),
    ("security_class", None, "dataset", "PROTECTED A", "Protected-A"),
    ("tags", None, "dataset", [{"name": "fire"}, {"name": "BC"}], "fire, BC"),
    ("owner_org", None, "dataset", "org-2", "geobc"),
    ("license_id", None, "dataset", "2", "2 - Open Government Licence - British Columbia"),
    ("org", "contacts", "dataset", "org-1", "bc-wildfire"),
    (DISPLAYED, "contacts", "dataset", [DISPLAYED], DISPLAYED),
    (DISPLAYED, "contacts", "dataset", [], ""),
]


@pytest.mark.parametrize(("name", "group", "owner", "value", "cell"), ROUND_TRIPS,
                         ids=[f"{r[1] or r[2]}.{r[0]}" for r in ROUND_TRIPS])
def test_each_kind_reads_back_what_it_writes(name, group, owner, value, cell):
    c = conv(name, group, owner)
    assert c.text(value) == cell
    assert same_value(c.value(cell), value)
    assert c.text(c.value(cell)) == cell


def test_kinds_are_decided_in_one_place():
    assert field_kind("tags", None) is Kind.TAGS
    assert field_kind("owner_org", SCHEMA.dataset_field("owner_org")) is Kind.ORGANIZATION
    assert field_kind("org", None, "contacts") is Kind.ORGANIZATION
    assert field_kind("tags", None, "contacts") is Kind.TEXT  # a subfield named tags is not keywords
    assert field_kind("security_class", SCHEMA.dataset_field("security_class")) is Kind.CHOICE
    assert field_kind("title", SCHEMA.dataset_field("title")) is Kind.TEXT


def test_licences_and_organizations_read_back_every_way_a_person_types_them():
    licence = conv("license_id")
    assert [licence.value(t) for t in ("2", "Open Government Licence - British Columbia",
                                       "2 - Open Government Licence - British Columbia")] == ["2", "2", "2"]
    # a fill handle counting up makes '3 - <licence 2's title>': kept as typed, for validation to refuse
    assert licence.value("3 - Open Government Licence - British Columbia").startswith("3 - ")
    assert conv("owner_org").value("not-an-org") == "not-an-org"


def test_older_records_displayed_marks_read_as_today():
    shown = conv(DISPLAYED, "contacts").text
    assert shown(stored_displayed({"private": "Display"})) == DISPLAYED
    assert shown(stored_displayed({DISPLAYED: True})) == DISPLAYED  # the composite era
    assert shown(stored_displayed({DISPLAYED: False})) == ""
    assert shown(stored_displayed({"private": "Private"})) == ""


def test_the_writer_the_dropdown_and_the_validator_use_the_same_converters():
    renderer = Renderer(SCHEMA, load_layout(), ORGS, LICENCES)
    pkg = {"id": "p", "name": "p", "owner_org": "org-1", "license_id": "22", "security_class": "PROTECTED A",
           "tags": [{"name": "x"}], "contacts": [{"name": "A", "org": "org-2", DISPLAYED: [DISPLAYED]}]}
    row = renderer.dataset_row(pkg)
    assert (row["owner_org"], row["license_id"], row["tags"]) == ("bc-wildfire", "22 - Access Only", "x")
    spec = next(s for s in renderer.sheet_specs([pkg]) if s.group == "contacts")
    assert renderer.group_rows(pkg, spec)[0]["org"] == "geobc"
    org_column = spec.column("org")
    assert org_column is not None and org_column.choice_values == conv("org", "contacts").choices
    compiled = Compiler(SCHEMA, CatalogueFacts(org_ids=set(ORGS), licence_ids=set(LICENCES))).field_schema(
        SCHEMA.dataset_field("license_id"), "dataset")
    assert compiled["enum"] == sorted(LICENCES)


def test_same_value_is_one_meaning_of_the_same():
    assert same_value(None, "") and same_value([], None)
    assert same_value([{"name": "a", "id": "1"}], [{"name": "a"}])
    assert same_value('{"b": 1, "a": 2}', {"a": 2, "b": 1})
    assert not same_value(" a", "a")  # spaces are what was typed
