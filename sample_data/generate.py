#!/usr/bin/env python3
"""Write a synthetic BC Data Catalogue in ckanapi dump format.

    python sample_data/generate.py                         # the sample catalogue (64 packages)
    python sample_data/generate.py --packages 5000 -o big.jsonl [--org-name NAME]

Shaped like the real records of every era (current lists, composite-era JSON
strings, classic security classes and upper-case formats), with no real names
or e-mail addresses. Deterministic for a given --seed. Organizations are
written to ``organizations.jsonl`` beside the output (a sub-organization names
its parent in ``groups``, as BCDC holds its hierarchy).
"""
from __future__ import annotations

import argparse
import json
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

MINISTRY = {"id": "8f3c1a9e-2b4d-4e6f-9a1b-3c5d7e9f1a2b", "name": "ministry-of-sample-services",
            "title": "Ministry of Sample Services"}
SUBORGS = [
    {"id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d", "name": "sample-data-branch", "title": "Sample Data Branch"},
    {"id": "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a", "name": "sample-geospatial-unit", "title": "Sample Geospatial Unit"},
]
STATES = ["DRAFT", "PENDING PUBLISH", "PUBLISHED", "PENDING ARCHIVE", "ARCHIVED"]
BCDC_TYPES = ["document", "geographic", "webservice", "application"]
LICENCES = ["2", "21", "22", "25", "24"]
ROLES = ["pointOfContact", "businessExpert", "dataManager", "dataSteward", "custodian", "distributor"]
FORMATS = {"document": ["csv", "xlsx", "pdf", "json", "txt"], "geographic": ["fgdb", "shp", "kml", "geojson", "wms"],
           "webservice": ["openapi-json", "arcgis_rest", "wms", "html"], "application": ["html", "other"]}
SUBJECTS = ["Salmon Escapement", "Road Atlas", "Air Quality", "Groundwater Wells", "Wildfire Perimeters",
            "School Locations", "Tenure Boundaries", "Population Projections", "Bridge Inventory",
            "Lake Bathymetry", "Forest Cover", "Café Licences", "Ferry Terminals", "Snow Survey",
            "Avalanche Zones", "Heritage Sites", "Clinic Wait Times", "Traffic Counts"]
PLACES = ["Okanagan", "Kootenay", "Skeena", "Cariboo", "Thompson", "Peace", "Sea-to-Sky", "Haida Gwaii",
          "Lower Mainland", "Vancouver Island"]
FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin", "Avery", "Noé", "Zoë"]
LAST = ["Sample", "Example", "Placeholder", "Tester", "Fixture", "Demo", "Mock", "Dummy"]
ISO = ["biota", "boundaries", "environment", "inlandWaters", "transportation", "location", "society"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(rng: random.Random, start: int = 2014, end: int = 2026) -> datetime:
    base = datetime(start, 1, 1)
    span = (datetime(end, 6, 1) - base).total_seconds()
    return base + timedelta(seconds=rng.random() * span, microseconds=rng.randrange(1_000_000))


def _notes(rng: random.Random, subject: str, place: str, long: bool) -> str:
    paras = [f"**{subject}** for the {place} region, compiled by the sample branch.",
             "This dataset is synthetic. It exists to exercise bulk editing:\r\n\r\n"
             "- unicode: Sḵwx̱wú7mesh, Nisg̱a'a, 北京, emoji 🐟\n- leading zeros: 007\n- a date-like text: 03/04/05",
             "See the [lineage](https://example.invalid/lineage) for how it was made."]
    if long:
        paras += [f"Section {i}: " + " ".join(rng.choice(SUBJECTS).lower() for _ in range(60)) for i in range(30)]
    return "\n\n".join(paras)


def _contacts(rng: random.Random, org_id: str, era: str) -> object:
    people = []
    for i in range(rng.randint(1, 3)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person = {"name": f"{first} {last}", "email": f"{first.lower()}.{last.lower()}@example.invalid",
                  "org": org_id, "role": rng.choice(ROLES)}
        if era == "current":
            person["displayed"] = ["displayed"] if i == 0 or rng.random() < 0.4 else []
        else:
            person["private"] = "Display" if i == 0 else "Hide"
            person["delete"] = "0"
        people.append(person)
    return people if era == "current" else json.dumps(people)


def _resource(rng: random.Random, pkg_id: str, position: int, bcdc_type: str, era: str, created: datetime) -> dict:
    fmt = rng.choice(FORMATS[bcdc_type])
    rid = _uuid(rng)
    name = f"{rng.choice(SUBJECTS)} {('Layer', 'Table', 'API', 'Viewer')[BCDC_TYPES.index(bcdc_type)]} {position + 1}"
    res = {
        "id": rid, "package_id": pkg_id, "position": position, "name": name,
        "url": f"https://example.invalid/data/{rid[:8]}.{fmt}", "format": fmt.upper() if era == "classic" else fmt,
        "description": rng.choice(["", "Quarterly extract.", "Extract — see notes.\nSecond line."]),
        "bcdc_type": bcdc_type, "resource_update_cycle": rng.choice(["daily", "weekly", "monthly", "asNeeded", "unknown"]),
        "resource_storage_location": rng.choice(
            ["bc geographic warehouse", "catalogue data store", "external", "web or ftp site"]),
        "resource_type": rng.choice(["data", "reports", "abstraction"]),
        "resource_access_method": rng.choice(["direct access", "service", "application", "indirect access"]),
        "created": created.isoformat(), "metadata_modified": created.isoformat(),
        "state": "active", "url_type": None, "mimetype": None, "size": rng.choice([None, 0, 1024, 52_428_800]),
        "hash": "", "cache_url": None, "cache_last_updated": None, "datastore_active": False,
        "temporal_extent": [{"beginning_date": "2001-01-01", "end_date": ""}] if rng.random() < 0.5 else [],
        "details": [], "geographic_extent": [], "preview_info": [], "iso_topic_category": [],
        "json_table_schema": {}, "spatial_datatype": "", "projection_name": "",
    }
    if bcdc_type in ("geographic", "webservice"):
        res["projection_name"] = rng.choice(["epsg3005", "epsg4326", "epsg3857"])
    if bcdc_type == "geographic":
        res["spatial_datatype"] = rng.choice(["SDO_GEOMETRY", "ST_GEOMETRY"])
        res["iso_topic_category"] = rng.sample(ISO, rng.randint(1, 2))
        res["geographic_extent"] = [{"north_bound_latitude": "60.0", "south_bound_latitude": "48.3",
                                     "east_bound_longitude": "-114.03", "west_bound_longitude": "-139.06"}]
        res["preview_info"] = [{"layer_name": "pub:WHSE_SAMPLE", "preview_latitude": "54.5",
                                "preview_longitude": "-125.5", "preview_zoom_level": "5",
                                "preview_map_service_url": "https://example.invalid/ows?",
                                "preview_image_url": "", "link_to_imap": ""}]
        if res["resource_storage_location"] == "bc geographic warehouse":
            res["object_name"] = f"WHSE_SAMPLE.{name.upper().replace(' ', '_')[:30]}"
            res["details"] = [{"column_name": c, "short_name": c[:10], "data_type": t, "data_precision": p,
                               "column_comments": f"{c} of the feature."}
                              for c, t, p in (("FEATURE_ID", "NUMBER", "38"), ("NAME", "VARCHAR2", "100"),
                                              ("SHAPE", "SDO_GEOMETRY", "64"))]
    if era == "composite":
        res["temporal_extent"] = json.dumps(res["temporal_extent"][0] if res["temporal_extent"] else {})
    return res


def make_package(rng: random.Random, index: int, org: dict, era: str = "current",
                 publish_state: str | None = None, long_notes: bool = False, total: int = 64) -> dict:
    """One package_show dict of the given era."""
    pkg_id = _uuid(rng)
    subject, place = rng.choice(SUBJECTS), rng.choice(PLACES)
    title = f"{subject} - {place} ({index:04d})"
    created = _stamp(rng)
    modified = created + timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86_000))
    bcdc_type = BCDC_TYPES[index % 4]
    state = publish_state or STATES[index % 5]
    res_count = 1 + (index * 7) % 15 if total <= 200 else rng.choice([1, 2, 3, 3, 4, 5])
    resources = [_resource(rng, pkg_id, i, bcdc_type if i == 0 else rng.choice(BCDC_TYPES), era, created)
                 for i in range(res_count)]
    tags = sorted({rng.choice(SUBJECTS).split()[0].lower(), place.lower(), "sample"})
    status = rng.choice(["onGoing", "completed", "planned", "underDevelopment"])
    pkg = {
        "id": pkg_id, "name": f"{subject}-{place}-{index:04d}".lower().replace(" ", "-").replace("é", "e"),
        "title": title, "type": "bcdc_dataset", "state": "active",
        "private": state != "PUBLISHED" and index % 3 == 0,
        "owner_org": org["id"], "organization": {
            "id": org["id"], "name": org["name"], "title": org["title"], "type": "organization",
            "description": "", "image_url": "", "created": "2014-12-10T15:05:55.826685",
            "is_organization": True, "approval_status": "approved", "state": "active"},
        "notes": _notes(rng, subject, place, long_notes),
        "license_id": rng.choice(LICENCES), "publish_state": state,
        "security_class": "PUBLIC", "view_audience": "Public", "download_audience": "Public",
        "metadata_visibility": "Public", "resource_status": status,
        "contacts": _contacts(rng, org["id"], era),
        "more_info": [{"description": "Program page", "url": f"https://example.invalid/program/{index}"}],
        "dates": [{"type": "Created", "date": created.date().isoformat()}],
        "purpose": rng.choice(["", "Support planning decisions.", "Regulatory reporting."]),
        "data_quality": "", "lineage_statement": rng.choice(["", "Compiled from field surveys.\r\nChecked yearly."]),
        "record_create_date": created.date().isoformat(), "record_last_modified": modified.date().isoformat(),
        "record_publish_date": created.date().isoformat() if state == "PUBLISHED" else "",
        "metadata_created": created.isoformat(), "metadata_modified": modified.isoformat(),
        "author": None, "author_email": None, "maintainer": None, "maintainer_email": None,
        "url": None, "version": None, "tags": [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None}
                                                 for t in tags],
        "groups": [], "resources": resources, "num_resources": len(resources), "num_tags": len(tags),
    }
    if status == "completed" and index % 2 == 0:
        pkg["resource_status"] = "obsolete"
        pkg["replacement_record"] = f"https://example.invalid/dataset/replacement-{index}"
    if era == "composite":
        pkg["more_info"] = json.dumps([{"delete": "0", "url": pkg["more_info"][0]["url"]}])
        pkg["dates"] = json.dumps(pkg["dates"])
    if era == "classic":
        pkg["security_class"] = rng.choice(["LOW-PUBLIC", "HIGH-CABINET", "MEDIUM-PERSONAL"])
        pkg["view_audience"] = "Public"
        pkg["sector"] = "Natural Resources"
    return pkg


def _special_cases(packages: list[dict]) -> None:
    """Values that trip spreadsheets: formulas, leading zeros, huge text."""
    packages[0]["title"] = "=HYPERLINK(\"https://example.invalid\",\"not a link\")"
    packages[1]["notes"] = "+1 more thing: -this starts with a minus\n@mention"
    packages[2]["purpose"] = "0123"
    packages[3]["data_quality"] = "1E5"
    packages[4]["lineage_statement"] = "TRUE"
    packages[5]["notes"] = "Very long description. " + "Lorem ipsum dolor sit amet, sample text. " * 900
    packages[6]["purpose"] = "Tab\there and a bell-free line\r\nwith CRLF and trailing spaces   "


def generate(count: int, seed: int = 20261123, org_name: str | None = None) -> tuple[list[dict], list[dict]]:
    """(packages, organizations) of a synthetic catalogue."""
    rng = random.Random(seed)
    ministry = dict(MINISTRY)
    if org_name:
        ministry = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bcdc-bulk:{org_name}")), "name": org_name,
                    "title": org_name.replace("-", " ").title()}
    orgs = [ministry] + ([] if org_name else SUBORGS)
    packages = []
    for i in range(count):
        if count <= 200:
            org = orgs[0] if i % 2 == 0 or len(orgs) == 1 else orgs[1 + (i // 2) % 2]
            era = "classic" if i % 10 == 7 else "composite" if i % 10 == 3 else "current"
        else:
            org, era = ministry, "current" if i % 20 else "composite"
        pkg = make_package(rng, i, org, era, long_notes=(i % 17 == 5), total=count)
        if org_name:
            pkg["name"] = f"{org_name}-{pkg['name']}"[:100]
            pkg["title"] = f"{pkg['title']} [{org_name}]"
        packages.append(pkg)
    if count >= 10:
        _special_cases(packages)
    org_dicts = []
    for org in orgs:
        org_dicts.append({"id": org["id"], "name": org["name"], "title": org["title"], "type": "organization",
                          "is_organization": True, "state": "active", "approval_status": "approved",
                          "description": "", "image_url": "",
                          "groups": [] if org is ministry else [{"name": ministry["name"], "capacity": "public"}]})
    return packages, org_dicts


def main() -> None:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=64)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--org-name")
    parser.add_argument("-o", "--output", type=Path, default=Path(__file__).with_name("catalogue.jsonl"))
    args = parser.parse_args()
    packages, orgs = generate(args.packages, args.seed, args.org_name)
    with args.output.open("w", encoding="utf-8") as out:
        for pkg in packages:
            out.write(json.dumps(pkg, ensure_ascii=False) + "\n")
    with args.output.with_name("organizations.jsonl").open("w", encoding="utf-8") as out:
        for org in orgs:
            out.write(json.dumps(org, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
