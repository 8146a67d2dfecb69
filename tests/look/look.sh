#!/usr/bin/env bash
# Screenshot a workbook in the real LibreOffice Calc window under Xvfb (see README.md beside this file).
#   tests/look/look.sh WORKBOOK.xlsx OUTDIR [--sheets S1,S2] [--dropdown SHEET!CELL ...] [--cell SHEET!CELL ...]
# Installs the Debian packages it needs when a command is missing, then runs look.py with the system Python
# (the one with the uno module), passing every argument through.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need=()
[ -x /usr/bin/python3 ] || need+=(python3)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc)
/usr/bin/python3 -c 'import uno' >/dev/null 2>&1 || need+=(python3-uno)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v import >/dev/null 2>&1 || need+=(imagemagick)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
# Carlito has Calibri's metrics (the default font of .xlsx files): without it text is wider than in Excel.
fc-list 2>/dev/null | grep -i carlito >/dev/null || need+=(fonts-crosextra-carlito)  # not -q: under pipefail its early exit fails fc-list

if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "look.sh: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

exec /usr/bin/python3 "$here/look.py" "$@"
