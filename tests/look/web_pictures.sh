#!/usr/bin/env bash
# The README's pictures of the web extension: the browser tests' screenshots of each step, made smaller.
#   bash tests/look/web_pictures.sh   (after: pytest tests/test_web.py -k "editor_downloads or another")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SHOTS="$ROOT/tests/look/out/web"
OUT="$ROOT/docs/images"
for step in org-page upload-with-a-problem plan progress report rerun-no-changes history undone another-organization-403; do
  shot="$(ls "$SHOTS"/*-"$step".png 2>/dev/null | head -1)"
  [[ -n "$shot" ]] || { echo "no screenshot of $step in $SHOTS: run the browser tests first" >&2; exit 1; }
  convert "$shot" -crop 1280x1100+0+0 +repage -resize 900x -strip -colors 256 "$OUT/web-$step.png"
done
echo "pictures in $OUT" >&2
