#!/usr/bin/env bash
# The test command: installs what the tests need, starts the CKAN sandbox, runs pytest.
#   bash tests/run.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# LibreOffice Calc with its UNO bridge for the system Python (tests/uno_edit.py drives it as a person edits)
if ! command -v soffice >/dev/null || ! /usr/bin/python3 -c "import uno" 2>/dev/null; then
  echo "[tests] installing LibreOffice Calc and python3-uno (round-trip and editing tests)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc python3-uno >/dev/null
fi
# Debian's Chromium and its driver for the web extension's browser tests (Selenium; nothing is downloaded)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "[tests] installing chromium and chromium-driver (browser tests of the web extension)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# axe-core (npm) for the accessibility tests of the web extension's pages, injected into Chromium
if [[ ! -f tests/.axe/node_modules/axe-core/axe.min.js ]]; then
  if ! command -v npm >/dev/null; then
    echo "[tests] installing npm (axe-core for the accessibility tests)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  echo "[tests] installing axe-core from the npm registry into tests/.axe" >&2
  npm install --silent --no-audit --no-fund --prefix tests/.axe axe-core@4 >/dev/null
fi
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --progress-bar off -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
bash tests/ckan_sandbox/start.sh
.venv/bin/ruff check bcdc_bulk tests sample_data
exec .venv/bin/python -m pytest "$@"
