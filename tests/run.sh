#!/usr/bin/env bash
# The test command: installs what the tests need, starts the CKAN sandbox, runs pytest.
#   bash tests/run.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if ! command -v soffice >/dev/null; then
  echo "[tests] installing LibreOffice Calc (round-trip tests)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null
fi
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --progress-bar off -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
bash tests/ckan_sandbox/start.sh
.venv/bin/ruff check bcdc_bulk tests sample_data
exec .venv/bin/python -m pytest "$@"
