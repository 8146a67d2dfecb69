#!/usr/bin/env bash
# Bring up a real CKAN (with ckanext-scheming and the BCDC schema) on 127.0.0.1
# for bcdc-bulk's tests. Idempotent: a second run on a machine where it already
# ran takes seconds. Writes .state/env with CKAN_URL and three API tokens.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$HERE/.state"
PORT="${CKAN_SANDBOX_PORT:-5055}"
# a clone that ran before keeps its port (another clone may have taken 5055 meanwhile)
if [[ -z "${CKAN_SANDBOX_PORT:-}" && -f "$STATE/env" ]]; then
  PORT="$(sed -n 's|^CKAN_URL=http://127.0.0.1:\([0-9]*\).*|\1|p' "$STATE/env")"
  PORT="${PORT:-5055}"
fi
CKAN_VERSION="${CKAN_VERSION:-2.11.6}"
SCHEMING_VERSION="${SCHEMING_VERSION:-3.1.0}"
WORKERS="${CKAN_SANDBOX_WORKERS:-4}"
# The CKAN virtualenv lives outside the clone so that fresh clones reuse it.
VENV="${CKAN_SANDBOX_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/bcdc-bulk/ckan-$CKAN_VERSION}"
DB_USER="bcdc_sandbox"
DB_PASS="bcdc_sandbox"
INI="$STATE/ckan.ini"
SEED_FILE="${CKAN_SANDBOX_SEED:-$ROOT/sample_data/catalogue.jsonl}"

log() { echo "[sandbox] $*" >&2; }
# The catalogue's own schema plugin, when ../shared has it: its validators are then the ones in force
# (ours, a rewrite, serve where it is absent). Our plugin keeps the search index, seeding and org helper.
UPSTREAM="$(cd "$ROOT/.." && pwd)/shared/bcdc/upstream/ckanext-bcgov-schema"
if [[ -d "$UPSTREAM" ]]; then
  VALIDATORS="upstream"; PLUGINS="bcdc_sandbox bcgov_schema scheming_datasets activity bcdc_bulk"; SCHEMA_FROM="bcgov_schema"
else
  VALIDATORS="sandbox"; PLUGINS="bcdc_sandbox scheming_datasets activity bcdc_bulk"; SCHEMA_FROM="bcdc_sandbox"
fi
PLUGIN_DIR="$HERE/ckanext-bcdc-sandbox"
PLUGIN_HASH="$(cd "$PLUGIN_DIR" && find . -type f -not -path '*/__pycache__/*' -not -path '*.egg-info*' -not -path './build/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
# bcdc-bulk itself runs in the sandbox as its web extension (plugin bcdc_bulk): a change to it restarts the server
BULK_HASH="$(cd "$ROOT" && find bcdc_bulk templates pyproject.toml -type f -not -path '*/__pycache__/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
SERVING="$VALIDATORS $PLUGIN_HASH $BULK_HASH $ROOT"  # what the running server must have been started with
use_port() {
  PORT="$1"
  REDIS_PORT="${CKAN_SANDBOX_REDIS_PORT:-$((PORT + 1000))}"
  URL="http://127.0.0.1:$PORT"
  # One database per clone and port, so that two clones never wipe each other's sandbox.
  DB="bcdc_sandbox_${PORT}_$(echo -n "$STATE" | sha256sum | cut -c1-8)"
}
alive() { curl -fsS -m 5 "$URL/api/3/action/status_show" >/dev/null 2>&1; }
listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ours() { [[ -f "$STATE/gunicorn.pid" ]] && kill -0 "$(cat "$STATE/gunicorn.pid")" 2>/dev/null; }
use_port "$PORT"

mkdir -p "$STATE"
worker_alive() {  # (a killed worker may linger as a zombie where nothing reaps it: that is not alive)
  [[ -f "$STATE/worker.pid" ]] && [[ "$(ps -o stat= -p "$(cat "$STATE/worker.pid")" 2>/dev/null)" =~ ^[^Z] ]]
}
start_worker() {
  if [[ -f "$STATE/worker.pid" ]] && kill -0 "$(cat "$STATE/worker.pid")" 2>/dev/null; then
    kill "$(cat "$STATE/worker.pid")" || true
  fi
  setsid nohup "$VENV/bin/ckan" -c "$INI" jobs worker </dev/null >"$STATE/worker.log" 2>&1 &
  echo $! > "$STATE/worker.pid"
}
BULK_INSTALLED="$ROOT $(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"  # which clone CKAN's venv runs bcdc-bulk from
if [[ -f "$STATE/env" ]] && alive && ours && [[ "$(cat "$STATE/serving" 2>/dev/null)" == "$SERVING" ]] \
   && [[ "$(cat "$VENV/.bcdc_bulk" 2>/dev/null)" == "$BULK_INSTALLED" ]]; then
  if ! worker_alive; then
    log "starting the job worker"; start_worker
  fi
  echo "$VENV" > "$STATE/venv"
  log "already running at $URL"
  exit 0
fi

if listening "$PORT" && ! ours; then
  if [[ -n "${CKAN_SANDBOX_PORT:-}" ]]; then
    log "port $PORT is already in use (another clone's sandbox?): stop it, or set another CKAN_SANDBOX_PORT"
    exit 1
  fi
  # another clone (or anything else) has the port: take the next free one
  for candidate in $(seq $((PORT + 1)) $((PORT + 40))); do
    if ! listening "$candidate" && ! listening "$((candidate + 1000))"; then
      log "port $PORT is in use by another process; this clone's sandbox uses $candidate"
      use_port "$candidate"
      break
    fi
  done
  if listening "$PORT"; then
    log "no free port near $PORT; set CKAN_SANDBOX_PORT"; exit 1
  fi
fi

# --- system services -------------------------------------------------------
if ! command -v redis-server >/dev/null || ! command -v pg_ctlcluster >/dev/null || ! command -v curl >/dev/null; then
  log "installing redis-server, postgresql, libpq-dev"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql libpq-dev curl >/dev/null
fi
PG_CLUSTER="$(pg_lsclusters -h | awk 'NR==1{print $1" "$2}')"
if [[ -z "$PG_CLUSTER" ]]; then
  log "no PostgreSQL cluster found"; exit 1
fi
if ! pg_lsclusters -h | awk 'NR==1{print $4}' | grep -q online; then
  log "starting PostgreSQL $PG_CLUSTER"
  pg_ctlcluster $PG_CLUSTER start
fi
PG_PORT="$(pg_lsclusters -h | awk 'NR==1{print $3}')"
psql_su() { su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qAt $*"; }

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --daemonize yes --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
fi

# --- CKAN in its own virtualenv ---------------------------------------------
if [[ ! -x "$VENV/bin/ckan" ]]; then
  log "installing CKAN $CKAN_VERSION and ckanext-scheming $SCHEMING_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel setuptools 2>&1 | { grep -v "^WARNING: Location" || true; }
  "$VENV/bin/pip" install -q --progress-bar off "ckan[requirements]==$CKAN_VERSION" "ckanext-scheming==$SCHEMING_VERSION" gunicorn 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
if [[ "$(cat "$VENV/.bcdc_sandbox_plugin" 2>/dev/null)" != "$PLUGIN_HASH" ]]; then
  log "installing the sandbox plugin"
  "$VENV/bin/pip" install -q --no-deps --no-build-isolation --force-reinstall "$PLUGIN_DIR" 2>&1 | { grep -v "^WARNING: Location" || true; }
  rm -rf "$PLUGIN_DIR/build" "$PLUGIN_DIR"/*.egg-info
  echo "$PLUGIN_HASH" > "$VENV/.bcdc_sandbox_plugin"
fi
if [[ "$VALIDATORS" == "upstream" ]]; then
  UP_HASH="$(cd "$UPSTREAM" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)"
  if [[ "$(cat "$VENV/.bcgov_schema" 2>/dev/null)" != "$UP_HASH" ]]; then
    # as its notes say: ckantoolkit (imported, not declared), and an editable install of a writable copy
    # (its MANIFEST.in leaves out the schema files); the copy lives in the CKAN virtualenv, shared by clones
    log "installing the catalogue's own schema plugin (ckanext-bcgov-schema) from ../shared"
    rm -rf "$VENV/src/ckanext-bcgov-schema"
    mkdir -p "$VENV/src"
    cp -r "$UPSTREAM" "$VENV/src/ckanext-bcgov-schema"
    chmod -R u+w "$VENV/src/ckanext-bcgov-schema"
    if ! { "$VENV/bin/pip" install -q --progress-bar off ckantoolkit \
           && "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e "$VENV/src/ckanext-bcgov-schema"; } \
         >"$STATE/upstream-install.log" 2>&1; then
      tail -20 "$STATE/upstream-install.log" >&2; exit 1
    fi
    echo "$UP_HASH" > "$VENV/.bcgov_schema"
  fi
fi
if [[ "$(cat "$VENV/.bcdc_bulk" 2>/dev/null)" != "$BULK_INSTALLED" ]]; then
  log "installing bcdc-bulk (the web extension) from $ROOT"
  if ! "$VENV/bin/pip" install -q --progress-bar off -e "$ROOT" >"$STATE/bulk-install.log" 2>&1; then
    tail -20 "$STATE/bulk-install.log" >&2; exit 1
  fi
  echo "$BULK_INSTALLED" > "$VENV/.bcdc_bulk"
fi
CKAN=("$VENV/bin/ckan" -c "$INI")

# --- configuration ----------------------------------------------------------
if [[ ! -f "$INI" ]]; then
  "$VENV/bin/ckan" generate config "$INI" >/dev/null
  "$VENV/bin/ckan" config-tool "$INI" \
    "sqlalchemy.url=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB" \
    "ckan.site_url=$URL" \
    "ckan.site_id=bcdc_sandbox" \
    "ckan.redis.url=redis://127.0.0.1:$REDIS_PORT/0" \
    "solr_url=http://127.0.0.1:1/solr/unused" \
    "scheming.dataset_fallback=false" \
    "licenses_group_url=file://$VENV/bcdc_licenses.json" \
    "ckan.storage_path=$STATE/storage" \
    "ckan.max_resource_size=50" \
    "ckan.auth.create_unowned_dataset=false" \
    "ckan.search.rows_max=1000" \
    "ckan.activity_streams_enabled=true" \
    "ckan.locale_default=en" \
    "debug=false" >/dev/null
  sed -i 's/^level = .*/level = WARNING/' "$INI"
fi
"$VENV/bin/ckan" config-tool "$INI" "ckan.plugins=$PLUGINS" "bcdc_sandbox.validators=$VALIDATORS" \
  "bcdc_bulk.max_upload_mb=${BCDC_BULK_MAX_UPLOAD_MB:-5}" "bcdc_bulk.stale_seconds=8" \
  "scheming.dataset_schemas=ckanext.$SCHEMA_FROM:bcdc_dataset.yaml" \
  "scheming.presets=ckanext.scheming:presets.json ckanext.$SCHEMA_FROM:bcdc_presets.json" >/dev/null
cp "$PLUGIN_DIR/ckanext/bcdc_sandbox/bcdc_licenses.json" "$VENV/bcdc_licenses.json"
mkdir -p "$STATE/storage"

# --- database (created afresh when this clone has no sandbox state yet) -----
if [[ ! -f "$STATE/initialized" ]]; then
  log "creating database $DB"
  if [[ -z "$(psql_su "-c \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"")" ]]; then
    psql_su "-c \"CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS'\""
  fi
  psql_su "-c \"DROP DATABASE IF EXISTS $DB WITH (FORCE)\""
  psql_su "-c \"CREATE DATABASE $DB OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0\""
  "${CKAN[@]}" db init >/dev/null 2>&1
  "${CKAN[@]}" db upgrade -p activity >/dev/null 2>&1
  rm -f "$STATE/env"
  touch "$STATE/initialized"
fi
# the web extension's tables (runs, files, journals): its migrations, on a new sandbox and an old one alike
if ! "${CKAN[@]}" db upgrade -p bcdc_bulk >"$STATE/migrate.log" 2>&1; then
  log "the bcdc_bulk migrations failed"; tail -20 "$STATE/migrate.log" >&2; exit 1
fi

# --- serve with gunicorn ------------------------------------------------------
cat > "$STATE/wsgi.py" <<PY
from logging.config import fileConfig

from ckan.cli import CKANConfigLoader
from ckan.config.middleware import make_app

fileConfig("$INI", disable_existing_loggers=False)
application = make_app(CKANConfigLoader("$INI").get_config())
PY
if [[ -f "$STATE/gunicorn.pid" ]] && kill -0 "$(cat "$STATE/gunicorn.pid")" 2>/dev/null; then
  old_master="$(cat "$STATE/gunicorn.pid")"
  kill "$old_master" || true
  # wait until it is gone: a new master refuses to start while the old one's pid file stands
  for _ in $(seq 1 120); do kill -0 "$old_master" 2>/dev/null || break; sleep 0.5; done
fi
start_worker  # the job worker of the web extension's applies
log "serving on $URL with $WORKERS workers ($VALIDATORS validators)"
"$VENV/bin/gunicorn" --workers "$WORKERS" --bind "127.0.0.1:$PORT" --timeout 120 \
  --chdir "$STATE" --pid "$STATE/gunicorn.pid" --daemon \
  --error-logfile "$STATE/gunicorn.log" --capture-output wsgi:application
for _ in $(seq 1 120); do alive && break; sleep 0.5; done
alive || { log "CKAN did not come up; see $STATE/gunicorn.log"; tail -30 "$STATE/gunicorn.log" >&2; exit 1; }
echo "$SERVING" > "$STATE/serving"
echo "$VENV" > "$STATE/venv"  # where CKAN runs from (the deployment test starts more of it)

# --- users, tokens, sample catalogue (first start only) ------------------------
if [[ ! -f "$STATE/env" ]]; then
  token_for() {
    local user="$1"
    "${CKAN[@]}" user add "$user" "email=$user@example.invalid" "password=Sandbox-$user-pw1" >/dev/null 2>&1 || true
    "${CKAN[@]}" user token add "$user" bcdc_bulk_tests 2>/dev/null | tail -1 | tr -d '[:space:]'
  }
  SYS_TOKEN="$(token_for sandbox_sysadmin)"
  "${CKAN[@]}" sysadmin add sandbox_sysadmin >/dev/null 2>&1
  ADMIN_TOKEN="$(token_for sandbox_admin)"
  EDITOR_TOKEN="$(token_for sandbox_editor)"
  if [[ -f "$SEED_FILE" ]]; then
    log "seeding $(wc -l < "$SEED_FILE") packages from $SEED_FILE"
    CKAN_URL="$URL" CKAN_SYSADMIN_TOKEN="$SYS_TOKEN" python3 "$HERE/seed.py" "$SEED_FILE" \
      --members sandbox_admin=admin --members sandbox_editor=editor
  fi
  umask 077
  cat > "$STATE/env.tmp" <<ENV
CKAN_URL=$URL
CKAN_SYSADMIN_TOKEN=$SYS_TOKEN
CKAN_ADMIN_TOKEN=$ADMIN_TOKEN
CKAN_EDITOR_TOKEN=$EDITOR_TOKEN
CKAN_ADMIN_USER=sandbox_admin
CKAN_EDITOR_USER=sandbox_editor
ENV
  mv "$STATE/env.tmp" "$STATE/env"
fi
log "ready at $URL"
