#!/usr/bin/env bash
# Stop what start.sh started (the CKAN server and its Redis). The database and
# .state stay, so the next start.sh is quick; with --drop, this clone's database
# and .state are removed too (a clone that is going away leaves nothing behind).
set -uo pipefail
STATE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.state"
for pidfile in "$STATE"/*/gunicorn.pid "$STATE/gunicorn.pid" "$STATE/worker.pid" "$STATE/redis.pid"; do
  if [[ -f "$pidfile" ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
done
if [[ "${1:-}" == "--drop" && -f "$STATE/ckan.ini" ]]; then
  db="$(sed -n 's|^sqlalchemy.url *= *postgresql://[^/]*/\(.*\)$|\1|p' "$STATE/ckan.ini")"
  port="$(pg_lsclusters -h | awk 'NR==1{print $3}')"
  for ini in "$STATE"/*/ckan.ini; do  # the other catalogues beside it (start_other.sh)
    other="$(sed -n 's|^sqlalchemy.url *= *postgresql://[^/]*/\(.*\)$|\1|p' "$ini" 2>/dev/null)"
    [[ "$other" == bcdc_other_* || "$other" == bcdc_dcat_* ]] && su postgres -c "psql -p $port -qAt -c 'DROP DATABASE IF EXISTS $other WITH (FORCE)'"
  done
  if [[ "$db" == bcdc_sandbox_* ]]; then
    sleep 1
    su postgres -c "psql -p $port -qAt -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" && echo "[sandbox] dropped $db" >&2
  fi
  rm -rf "$STATE"
fi
echo "[sandbox] stopped" >&2
