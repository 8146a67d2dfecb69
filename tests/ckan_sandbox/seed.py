#!/usr/bin/env python3
"""Load packages into the sandbox exactly as stored.

    seed.py FILE.jsonl [--organizations ORGS.jsonl] [--members USER=CAPACITY ...] [-p N]

FILE.jsonl is in ckanapi dump format (one package_show dict per line). Every
organization a package names is created (with its id) if missing. Organizations
come first from ORGS.jsonl (ckanapi dump of organization_show dicts; a
sub-organization names its parent in ``groups``), or from ``organizations.jsonl``
beside FILE when present. Values that today's schema rejects are kept: the
sandbox's sysadmin-only ``bcdc_sandbox_seed`` action stores the dict as given.

Reads CKAN_URL and CKAN_SYSADMIN_TOKEN from the environment, or from
.state/env beside this script. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _env() -> tuple[str, str]:
    url, token = os.environ.get("CKAN_URL"), os.environ.get("CKAN_SYSADMIN_TOKEN")
    state = Path(__file__).resolve().parent / ".state" / "env"
    if (not url or not token) and state.exists():
        values = dict(line.split("=", 1) for line in state.read_text().splitlines() if "=" in line)
        url = url or values.get("CKAN_URL")
        token = token or values.get("CKAN_SYSADMIN_TOKEN")
    if not url or not token:
        sys.exit("seed.py: set CKAN_URL and CKAN_SYSADMIN_TOKEN (or run start.sh first)")
    return url.rstrip("/"), token


def call(url: str, token: str, action: str, data: dict) -> dict:
    """POST one CKAN action; raise RuntimeError with the server's error on failure."""
    req = urllib.request.Request(
        f"{url}/api/3/action/{action}",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", "Authorization": token},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.load(resp)["result"]
    except urllib.error.HTTPError as err:
        body = err.read().decode(errors="replace")
        raise RuntimeError(f"{action} failed ({err.code}): {body[:500]}") from None


def main(argv: list[str] | None = None) -> int:
    """Seed the packages (and organizations) of a dump file into the sandbox."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--organizations", type=Path)
    parser.add_argument("--members", action="append", default=[], metavar="USER=CAPACITY")
    parser.add_argument("-p", "--processes", type=int, default=4)
    args = parser.parse_args(argv)
    url, token = _env()

    orgs_file = args.organizations or args.file.with_name("organizations.jsonl")
    orgs = []
    if orgs_file.exists():
        orgs = [json.loads(line) for line in orgs_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    packages = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]

    existing = set(call(url, token, "organization_list", {"all_fields": False}))
    created: list[str] = []
    pending = [o for o in orgs if o["name"] not in existing]
    while pending:  # parents before children
        progressed = False
        for org in list(pending):
            parents = [g["name"] for g in org.get("groups") or []]
            if all(p in existing for p in parents):
                call(url, token, "bcdc_sandbox_seed_organization", org)
                existing.add(org["name"])
                created.append(org["name"])
                pending.remove(org)
                progressed = True
        if not progressed:
            sys.exit(f"seed.py: organizations with unknown parents: {[o['name'] for o in pending]}")
    for pkg in packages:
        org = pkg.get("organization")
        if org and org["name"] not in existing:
            call(url, token, "bcdc_sandbox_seed_organization", org)
            existing.add(org["name"])
            created.append(org["name"])

    def seed(pkg: dict) -> None:
        call(url, token, "bcdc_sandbox_seed", pkg)

    with ThreadPoolExecutor(max_workers=max(1, args.processes)) as pool:
        list(pool.map(seed, packages))

    for member in args.members:
        user, _, capacity = member.partition("=")
        for org in sorted({p["organization"]["name"] for p in packages if p.get("organization")} | set(created)):
            call(url, token, "organization_member_create", {"id": org, "username": user, "role": capacity})
    print(f"seeded {len(packages)} packages, {len(created)} new organizations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
