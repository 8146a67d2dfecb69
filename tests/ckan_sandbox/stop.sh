#!/usr/bin/env bash
# Stop what start.sh started (the CKAN server and its Redis). The database and
# .state stay, so the next start.sh is quick.
set -uo pipefail
STATE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.state"
for pidfile in "$STATE/gunicorn.pid" "$STATE/redis.pid"; do
  if [[ -f "$pidfile" ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
done
echo "[sandbox] stopped" >&2
