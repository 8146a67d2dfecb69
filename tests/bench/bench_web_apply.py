#!/usr/bin/env python3
"""The web extension's apply against the command line's (issue 14). Not part of the test suite; run
by hand with the sandbox up (it runs the extension and a job worker):

    .venv/bin/python tests/bench/bench_web_apply.py [--packages 500]

Two organizations of N current-era datasets, a new purpose typed into every Datasets row of each
one's export. Timed: `bcdc-bulk apply` of one (4 workers over HTTP; it validates, then writes),
against the other through the extension as a signed-in editor: upload (the check and the plan)
and Apply, until the report page is there (4 workers in-process in the job worker).
Target: the extension at most 1.2 x the command line.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')


def _session(url: str, user: str) -> object:
    import requests

    session = requests.Session()

    def keep_cookie(response: object, *args: object, **kwargs: object) -> None:
        # CKAN sends its session cookie with an empty Domain=, which requests' cookie jar drops
        found = re.search(r"(?:^|, )ckan=([^;]+)", response.headers.get("Set-Cookie", ""))  # type: ignore[attr-defined]
        if found:
            session.cookies.set("ckan", found.group(1))
    session.hooks["response"].append(keep_cookie)
    page = session.get(f"{url}/user/login")
    token = TOKEN.search(page.text)
    answer = session.post(f"{url}/user/login", data={"login": user, "password": f"Sandbox-{user}-pw1",
                                                     "_csrf_token": token.group(1) if token else ""})
    if "/user/login" in answer.url:
        raise SystemExit(f"could not sign in as {user}")
    return session


def _through_the_extension(url: str, user: str, org: dict, workbook: Path) -> tuple[float, dict]:
    session = _session(url, user)
    start = time.perf_counter()
    page = session.get(f"{url}/organization/{org['name']}/bulk")
    token = TOKEN.search(page.text).group(1)
    with workbook.open("rb") as handle:
        checked = session.post(f"{url}/organization/{org['name']}/bulk/upload", data={"_csrf_token": token},
                               files={"workbook": (workbook.name, handle)})
    run_url = checked.url
    while session.get(f"{run_url}/status").json()["state"] == "checking":  # the check runs in a job
        time.sleep(0.2)
    checked = session.get(run_url)
    if "apply-button" not in checked.text:
        raise SystemExit(f"the upload was not taken: {checked.url}")
    token = TOKEN.search(checked.text).group(1)
    session.post(f"{run_url}/apply", data={"_csrf_token": token})
    while True:
        status = session.get(f"{run_url}/status").json()
        if status["state"] not in ("queued", "applying"):
            break
        time.sleep(0.2)
    return time.perf_counter() - start, status


def main() -> None:
    from bench_apply import _apply, _edited_workbook, _org
    from conftest import _read_env

    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=500)
    args = parser.parse_args()
    env = _read_env()
    cli_org, _ = _org(env, args.packages, "c")
    web_org, _ = _org(env, args.packages, "w")
    cli_book, _ = _edited_workbook(env, cli_org)
    web_book, _ = _edited_workbook(env, web_org)
    cli_s = _apply(env, cli_book, env["CKAN_URL"], 4)
    web_s, status = _through_the_extension(env["CKAN_URL"], env["CKAN_EDITOR_USER"], web_org, web_book)
    print(json.dumps({"packages": args.packages, "cli_apply_s": round(cli_s, 2), "web_apply_s": round(web_s, 2),
                      "web_counts": status.get("counts"), "ratio_web_vs_cli": round(web_s / cli_s, 3),
                      "target": "<= 1.2"}, indent=2))


if __name__ == "__main__":
    main()
