#!/usr/bin/env bash
# A second real CKAN beside the sandbox, running another catalogue's schema: ckanext-dcat's DCAT-AP
# (from PyPI). `start_dcat.sh full` serves dcat_ap_full.yaml. `start_dcat.sh multilingual` would serve
# dcat_ap_multilingual.yaml with ckanext-fluent (from ../shared/ckan-schemas; exit 3 when absent), but
# that fluent source chains a helper ckanext-scheming 3.1.0 lacks (scheming_missing_required_fields),
# so it does not start yet; the multilingual schema is tested offline (tests/test_dcat_sandbox.py).
# It shares the sandbox's virtualenv, PostgreSQL and Redis (start.sh brings those up first) and has its
# own database, configuration, port and state folder. Idempotent; writes .state/dcat-KIND/env.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KIND="${1:-full}"
DCAT_VERSION="2.4.4"
MAIN="$HERE/.state"
STATE="$MAIN/dcat-$KIND"
log() { echo "[dcat-$KIND] $*" >&2; }

bash "$HERE/start.sh" >/dev/null  # the sandbox: venv, PostgreSQL, Redis
VENV="$(cat "$MAIN/venv")"
MAIN_INI="$MAIN/ckan.ini"
MAIN_PORT="$(sed -n 's|^CKAN_URL=http://127.0.0.1:\([0-9]*\).*|\1|p' "$MAIN/env")"
case "$KIND" in
  full) OFFSET=6; SCHEMA="dcat_ap_full.yaml"; PLUGINS="bcdc_sandbox dcat scheming_datasets activity"
        PRESETS="ckanext.scheming:presets.json ckanext.dcat.schemas:presets.yaml" ;;
  multilingual) OFFSET=7; SCHEMA="dcat_ap_multilingual.yaml"; PLUGINS="bcdc_sandbox dcat fluent scheming_datasets activity"
        PRESETS="ckanext.scheming:presets.json ckanext.fluent:presets.json ckanext.dcat.schemas:presets.yaml" ;;
  *) log "use: start_dcat.sh full|multilingual"; exit 2 ;;
esac
PORT=$((MAIN_PORT + OFFSET))
URL="http://127.0.0.1:$PORT"
INI="$STATE/ckan.ini"
DB="bcdc_dcat_${KIND}_$(echo -n "$STATE" | sha256sum | cut -c1-8)"
alive() { curl -fsS -m 5 "$URL/api/3/action/status_show" >/dev/null 2>&1; }
ours() { [[ -f "$STATE/gunicorn.pid" ]] && kill -0 "$(cat "$STATE/gunicorn.pid")" 2>/dev/null; }
mkdir -p "$STATE"
if [[ -f "$STATE/env" ]] && alive && ours; then
  log "already running at $URL"; exit 0
fi

# --- ckanext-dcat from PyPI, ckanext-fluent from ../shared ------------------------
if [[ "$(cat "$VENV/.dcat" 2>/dev/null)" != "$DCAT_VERSION" ]]; then
  log "installing ckanext-dcat $DCAT_VERSION"
  if ! "$VENV/bin/pip" install -q --progress-bar off "ckanext-dcat==$DCAT_VERSION" >"$STATE/install.log" 2>&1; then
    tail -20 "$STATE/install.log" >&2; exit 1
  fi
  echo "$DCAT_VERSION" > "$VENV/.dcat"
fi
if [[ "$KIND" == multilingual ]]; then
  FLUENT="$(cd "$ROOT/.." && pwd)/shared/ckan-schemas/ckanext-fluent"
  [[ -d "$FLUENT" ]] || { log "../shared/ckan-schemas/ckanext-fluent is not present"; exit 3; }
  HASH="$(cd "$FLUENT" && find . -type f -not -path '*/__pycache__/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
  if [[ "$(cat "$VENV/.fluent" 2>/dev/null)" != "$HASH" ]]; then
    log "installing ckanext-fluent from ../shared (a copy: the original is read-only)"
    rm -rf "$VENV/src/ckanext-fluent" && mkdir -p "$VENV/src" && cp -r "$FLUENT" "$VENV/src/ckanext-fluent"
    chmod -R u+w "$VENV/src/ckanext-fluent"
    "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$VENV/src/ckanext-fluent" >"$STATE/fluent.log" 2>&1 \
      || { tail -20 "$STATE/fluent.log" >&2; exit 1; }
    echo "$HASH" > "$VENV/.fluent"
  fi
fi

# --- configuration: the sandbox's, with this catalogue's plugins, schema, database and port ------
SQL="$(sed -n 's|^sqlalchemy.url *= *||p' "$MAIN_INI")"
REDIS="$(sed -n 's|^ckan.redis.url *= *||p' "$MAIN_INI")"
cp "$MAIN_INI" "$INI"
"$VENV/bin/ckan" config-tool "$INI" "sqlalchemy.url=${SQL%/*}/$DB" "ckan.site_url=$URL" \
  "ckan.site_id=bcdc_dcat_$KIND" "ckan.redis.url=${REDIS%/*}/$OFFSET" "ckan.plugins=$PLUGINS" \
  "bcdc_sandbox.validators=sandbox" "scheming.dataset_schemas=ckanext.dcat.schemas:$SCHEMA" \
  "scheming.presets=$PRESETS" "ckan.storage_path=$STATE/storage" >/dev/null
mkdir -p "$STATE/storage"
CKAN=("$VENV/bin/ckan" -c "$INI")
PG_PORT="$(echo "$SQL" | sed -n 's|.*:\([0-9]*\)/.*|\1|p')"
psql_su() { su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qAt $*"; }
if [[ ! -f "$STATE/initialized" ]]; then
  log "creating database $DB"
  psql_su "-c \"DROP DATABASE IF EXISTS $DB WITH (FORCE)\""
  psql_su "-c \"CREATE DATABASE $DB OWNER bcdc_sandbox ENCODING 'UTF8' TEMPLATE template0\""
  "${CKAN[@]}" db init >"$STATE/db.log" 2>&1 || { tail -20 "$STATE/db.log" >&2; exit 1; }
  "${CKAN[@]}" db upgrade -p activity >>"$STATE/db.log" 2>&1
  rm -f "$STATE/env"
  touch "$STATE/initialized"
fi

# --- serve ------------------------------------------------------------------------------------
cat > "$STATE/wsgi.py" <<PY
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

fileConfig("$INI", disable_existing_loggers=False)
application = make_app(CKANConfigLoader("$INI").get_config())
PY
if ours; then
  old="$(cat "$STATE/gunicorn.pid")"; kill "$old" || true
  for _ in $(seq 1 120); do kill -0 "$old" 2>/dev/null || break; sleep 0.5; done
fi
"$VENV/bin/gunicorn" --workers 2 --bind "127.0.0.1:$PORT" --timeout 120 --chdir "$STATE" \
  --pid "$STATE/gunicorn.pid" --daemon --error-logfile "$STATE/gunicorn.log" --capture-output wsgi:application
for _ in $(seq 1 120); do alive && break; sleep 0.5; done
alive || { log "CKAN did not come up; see $STATE/gunicorn.log"; tail -30 "$STATE/gunicorn.log" >&2; exit 1; }

if [[ ! -f "$STATE/env" ]]; then
  "${CKAN[@]}" user add dcat_sysadmin email=dcat_sysadmin@example.invalid password=Sandbox-dcat-pw1 >/dev/null 2>&1 || true
  "${CKAN[@]}" sysadmin add dcat_sysadmin >/dev/null 2>&1
  TOKEN="$("${CKAN[@]}" user token add dcat_sysadmin bcdc_bulk_tests 2>/dev/null | tail -1 | tr -d '[:space:]')"
  umask 077
  printf 'CKAN_URL=%s\nCKAN_SYSADMIN_TOKEN=%s\n' "$URL" "$TOKEN" > "$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
fi
log "ready at $URL ($SCHEMA)"
