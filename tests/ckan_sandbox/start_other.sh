#!/usr/bin/env bash
# Another real CKAN beside the sandbox, running another schema:
#   start_other.sh full          ckanext-dcat's DCAT-AP (dcat_ap_full.yaml, from PyPI)
#   start_other.sh multilingual  dcat_ap_multilingual.yaml with ckanext-fluent (from ../shared/ckan-schemas;
#                                exit 3 when absent)
#   start_other.sh bcdc-plus     the sandbox's BC Data Catalogue schema with two fields it does not have,
#                                added here: what a catalogue does when its schema gains a field
# It shares the sandbox's virtualenv, PostgreSQL and Redis (start.sh brings those up first) and has its
# own database, configuration, port and state folder. Idempotent; writes .state/<state folder>/env.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KIND="${1:-full}"
EXTRA="bcdc_sandbox.fluent_base_helper=false"
DCAT_VERSION="2.4.4"
MAIN="$HERE/.state"
log() { echo "[other-$KIND] $*" >&2; }

bash "$HERE/start.sh" >/dev/null  # the sandbox: venv, PostgreSQL, Redis
VENV="$(cat "$MAIN/venv")"
MAIN_INI="$MAIN/ckan.ini"
MAIN_PORT="$(sed -n 's|^CKAN_URL=http://127.0.0.1:\([0-9]*\).*|\1|p' "$MAIN/env")"
VALIDATORS=sandbox  # the DCAT-AP catalogues run none of the BC Data Catalogue's validators
EXTRA="bcdc_sandbox.fluent_base_helper=false"
case "$KIND" in
  full) OFFSET=6; FOLDER=dcat-full; PLUGINS="bcdc_sandbox dcat scheming_datasets activity"
        SCHEMAS="ckanext.dcat.schemas:dcat_ap_full.yaml"
        PRESETS="ckanext.scheming:presets.json ckanext.dcat.schemas:presets.yaml" ;;
  multilingual) OFFSET=7; FOLDER=dcat-multilingual; PLUGINS="bcdc_sandbox dcat fluent scheming_datasets activity"
        SCHEMAS="ckanext.dcat.schemas:dcat_ap_multilingual.yaml"
        PRESETS="ckanext.scheming:presets.json ckanext.fluent:presets.json ckanext.dcat.schemas:presets.yaml"
        # ckanext-fluent's newest source chains a helper of scheming's form pages that 3.1.0 lacks (see plugin.py)
        EXTRA="bcdc_sandbox.fluent_base_helper=true" ;;
  bcdc-plus) OFFSET=8; FOLDER=bcdc-plus
        PLUGINS="$(sed -n 's|^ckan.plugins *= *||p' "$MAIN_INI" | sed 's/ *bcdc_bulk//')"
        SCHEMAS="file://$MAIN/$FOLDER/bcdc_dataset_plus.yaml"
        PRESETS="$(sed -n 's|^scheming.presets *= *||p' "$MAIN_INI")"
        VALIDATORS="$(sed -n 's|^bcdc_sandbox.validators *= *||p' "$MAIN_INI")"; VALIDATORS="${VALIDATORS:-sandbox}" ;;
  *) log "use: start_other.sh full|multilingual|bcdc-plus"; exit 2 ;;
esac
STATE="$MAIN/$FOLDER"
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ours() { [[ -f "$STATE/gunicorn.pid" ]] && kill -0 "$(cat "$STATE/gunicorn.pid")" 2>/dev/null; }
# a port of its own, kept in its state folder: another clone's sandbox (on the next port) has its own
# catalogues beside it, and an answer from one of theirs must never be taken for this one's
PORT="$(cat "$STATE/port" 2>/dev/null || true)"
if [[ -z "$PORT" ]] || { listening "$PORT" && ! ours; }; then
  for PORT in $(seq $((MAIN_PORT + OFFSET * 100)) $((MAIN_PORT + OFFSET * 100 + 90))); do
    listening "$PORT" || break
  done
  listening "$PORT" && { log "no free port near $((MAIN_PORT + OFFSET * 100))"; exit 1; }
  rm -f "$STATE/env"  # a token for another port's catalogue is no use here
fi
mkdir -p "$STATE" && echo "$PORT" > "$STATE/port"
URL="http://127.0.0.1:$PORT"
INI="$STATE/ckan.ini"
DB="bcdc_other_${KIND//-/_}_$(echo -n "$STATE" | sha256sum | cut -c1-8)"
alive() { curl -fsS -m 5 "$URL/api/3/action/status_show" >/dev/null 2>&1; }
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

if [[ "$KIND" == bcdc-plus ]]; then  # the sandbox's schema, as its ckan.ini names it, with two fields more
  "$VENV/bin/python" - "$(sed -n 's|^scheming.dataset_schemas *= *||p' "$MAIN_INI")" "$STATE/bcdc_dataset_plus.yaml" <<'PY'
import importlib, pathlib, sys, yaml
module, _, name = sys.argv[1].partition(":")
schema = yaml.safe_load((pathlib.Path(importlib.import_module(module).__file__).parent / name).read_text())
after = next(i for i, f in enumerate(schema["dataset_fields"]) if f["field_name"] == "notes") + 1
schema["dataset_fields"][after:after] = [
    {"field_name": "steward_note", "label": "Data steward's note", "validators": "ignore_missing unicode_safe",
     "help_text": "What the data steward wants every user of this dataset to know."},
    {"field_name": "review_cycle", "label": "Review cycle", "preset": "select", "required": False,
     "help_text": "How often the data steward reviews this record.",
     "choices": [{"value": "yearly", "label": "Every year"}, {"value": "quarterly", "label": "Every quarter"}]},
]
pathlib.Path(sys.argv[2]).write_text(yaml.safe_dump(schema, sort_keys=False, allow_unicode=True))
PY
fi

# --- configuration: the sandbox's, with this catalogue's plugins, schema, database and port ------
SQL="$(sed -n 's|^sqlalchemy.url *= *||p' "$MAIN_INI")"
REDIS="$(sed -n 's|^ckan.redis.url *= *||p' "$MAIN_INI")"
cp "$MAIN_INI" "$INI"
"$VENV/bin/ckan" config-tool "$INI" "sqlalchemy.url=${SQL%/*}/$DB" "ckan.site_url=$URL" \
  "ckan.site_id=bcdc_other_${KIND//-/_}" "ckan.redis.url=${REDIS%/*}/$OFFSET" "ckan.plugins=$PLUGINS" \
  "bcdc_sandbox.validators=$VALIDATORS" "scheming.dataset_schemas=$SCHEMAS" \
  "scheming.presets=$PRESETS" "ckan.storage_path=$STATE/storage" "$EXTRA" >/dev/null
mkdir -p "$STATE/storage"
CKAN=("$VENV/bin/ckan" -c "$INI")
PG_PORT="$(echo "$SQL" | sed -n 's|.*:\([0-9]*\)/.*|\1|p')"
psql_su() { su postgres -c "psql -p $PG_PORT -v ON_ERROR_STOP=1 -qAt $*"; }
if [[ "$(cat "$STATE/initialized" 2>/dev/null)" != "$DB" ]]; then
  log "creating database $DB"
  psql_su "-c \"DROP DATABASE IF EXISTS $DB WITH (FORCE)\""
  psql_su "-c \"CREATE DATABASE $DB OWNER bcdc_sandbox ENCODING 'UTF8' TEMPLATE template0\""
  "${CKAN[@]}" db init >"$STATE/db.log" 2>&1 || { tail -20 "$STATE/db.log" >&2; exit 1; }
  "${CKAN[@]}" db upgrade -p activity >>"$STATE/db.log" 2>&1
  rm -f "$STATE/env"
  echo "$DB" > "$STATE/initialized"
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
log "ready at $URL ($SCHEMAS)"
