"""A package search index kept in PostgreSQL, standing in for Solr.

Like Solr in a real CKAN site, the index keeps each package's validated dict at
index time, so package_search answers 1,000 packages from one query instead of
1,000 package_shows. Supported query language (what CKAN and bcdc-bulk send):
fq terms ``[+|-]field:value``, ``field:"quoted value"``, ``field:(a OR b)``,
``field:*`` / ``field:[* TO *]``; ``q`` free text or fielded; rows/start; sort on
indexed fields; permission labels; the include_private/include_drafts filters
CKAN itself turns into ``capacity`` and ``state`` terms.
"""
from __future__ import annotations

import copy
import json
import re
from typing import Any

import ckan.lib.navl.dictization_functions as df
import ckan.lib.plugins as lib_plugins
from ckan import model
from ckan.lib.search.common import SearchError
from ckan.lib.search.index import PackageSearchIndex
from ckan.lib.search.query import VALID_SOLR_PARAMETERS, PackageSearchQuery, SearchQueryError
from sqlalchemy import text

TABLE = "bcdc_sandbox_search"
_table_ready = False

TERM_RE = re.compile(
    r'(?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.\-]*):'
    r'(?P<value>\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)|"(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^\s()]+)'
)
TEXT_FIELDS = {"text", "title", "notes"}
SORTABLE = {
    "id", "name", "title", "title_string", "metadata_modified", "metadata_created",
    "owner_org", "state", "publish_state", "type",
}


def ensure_table() -> None:
    """Create the index table once per process."""
    global _table_ready
    if _table_ready:
        return
    with model.meta.engine.begin() as conn:
        conn.execute(text(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            " id text PRIMARY KEY, name text, doc jsonb NOT NULL,"
            " validated_data_dict text NOT NULL, data_dict text NOT NULL,"
            " permission_labels text[] NOT NULL)"
        ))
    _table_ready = True


def _flatten(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The searchable fields of a package, as Solr would index them."""
    doc: dict[str, Any] = {}
    for key, value in pkg_dict.items():
        if key in ("resources", "tags", "groups", "organization", "extras"):
            continue
        doc[key] = value
    for extra in pkg_dict.get("extras") or []:
        doc.setdefault(extra["key"], extra["value"])
    doc["tags"] = [t["name"] for t in pkg_dict.get("tags") or []]
    doc["groups"] = [g["name"] for g in pkg_dict.get("groups") or []]
    org = pkg_dict.get("organization")
    doc["organization"] = org["name"] if org else None
    doc["capacity"] = "private" if pkg_dict.get("private") else "public"
    doc["dataset_type"] = pkg_dict.get("type")
    doc["title_string"] = pkg_dict.get("title")
    for src, dst in (("name", "res_name"), ("format", "res_format"), ("url", "res_url"),
                     ("description", "res_description"), ("resource_type", "res_type")):
        doc[dst] = [r.get(src) or "" for r in pkg_dict.get("resources") or []]
    text_parts = [str(pkg_dict.get(k) or "") for k in ("name", "title", "notes")]
    text_parts += doc["tags"] + doc["res_name"] + doc["res_description"]
    doc["text"] = " ".join(text_parts)
    return doc


class PgPackageSearchIndex(PackageSearchIndex):
    """Keeps each package's validated dict and searchable fields in PostgreSQL."""

    def index_package(self, pkg_dict: dict[str, Any] | None, defer_commit: bool = False) -> None:
        if pkg_dict is None:
            return
        ensure_table()
        pkg_dict = copy.deepcopy(pkg_dict)
        plugin = lib_plugins.lookup_package_plugin(pkg_dict.get("type"))
        validated, _errors = lib_plugins.plugin_validate(
            plugin, {"model": model, "session": model.Session},
            copy.deepcopy(pkg_dict), plugin.show_package_schema(), "package_show",
        )
        validated_json = json.dumps(validated, cls=df.MissingNullEncoder)
        dataset = model.Package.get(pkg_dict["id"])
        labels = lib_plugins.get_permission_labels().get_dataset_labels(dataset) if dataset else []
        model.Session.execute(
            text(
                f"INSERT INTO {TABLE} (id, name, doc, validated_data_dict, data_dict, permission_labels)"
                " VALUES (:id, :name, CAST(:doc AS jsonb), :vdd, :dd, :labels)"
                " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, doc = EXCLUDED.doc,"
                " validated_data_dict = EXCLUDED.validated_data_dict,"
                " data_dict = EXCLUDED.data_dict, permission_labels = EXCLUDED.permission_labels"
            ),
            {
                "id": pkg_dict["id"], "name": pkg_dict.get("name"),
                "doc": json.dumps(_flatten(pkg_dict), cls=df.MissingNullEncoder),
                "vdd": validated_json, "dd": json.dumps(pkg_dict, cls=df.MissingNullEncoder),
                "labels": list(labels),
            },
        )

    def delete_package(self, pkg_dict: dict[str, Any]) -> None:
        ensure_table()
        model.Session.execute(
            text(f"DELETE FROM {TABLE} WHERE id = :ref OR name = :ref"), {"ref": pkg_dict.get("id")}
        )

    def commit(self) -> None:
        """Writes ride on the request's own transaction: nothing to flush."""

    def clear(self) -> None:
        ensure_table()
        model.Session.execute(text(f"DELETE FROM {TABLE}"))

    def get_all_entity_ids(self) -> list[str]:  # type: ignore[override]
        ensure_table()
        return [r[0] for r in model.Session.execute(text(f"SELECT id FROM {TABLE}"))]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r'\\(.)', r'\1', value[1:-1])
    return value


def _values(raw: str) -> list[str] | None:
    """Values of one term; None means 'field exists'."""
    if raw in ("*", "[* TO *]"):
        return None
    if raw.startswith("(") and raw.endswith(")"):
        inner = raw[1:-1]
        parts = re.findall(r'"(?:[^"\\]|\\.)*"|[^\s]+', inner)
        return [_unquote(p) for p in parts if p.upper() not in ("OR", "AND")]
    return [_unquote(raw)]


class _Sql:
    def __init__(self) -> None:
        self.where: list[str] = []
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def term(self, sign: str, field: str, raw: str) -> None:
        if field in ("site_id", "entity_type"):
            return
        values = _values(raw)
        f = self.bind(field)
        if field == "permission_labels":
            cond = f"permission_labels && CAST({self.bind(values or [])} AS text[])"
        elif values is None:
            cond = f"(doc ? {f} AND doc->{f} <> 'null'::jsonb AND doc->>{f} <> '')"
        elif field in TEXT_FIELDS:
            ors = [f"doc->>{f} ILIKE {self.bind('%' + v.strip('*') + '%')}" for v in values]
            cond = "(" + " OR ".join(ors) + ")"
        else:
            arr = self.bind(values)
            cond = (
                f"(CASE WHEN jsonb_typeof(doc->{f}) = 'array'"
                f" THEN jsonb_exists_any(doc->{f}, CAST({arr} AS text[]))"
                f" ELSE doc->>{f} = ANY(CAST({arr} AS text[])) END)"
            )
        self.where.append(f"NOT COALESCE({cond}, false)" if sign == "-" else f"COALESCE({cond}, false)")

    def parse(self, expr: str) -> None:
        rest = TERM_RE.sub(lambda m: self.term(m["sign"], m["field"], m["value"]) or " ", expr)
        words = [w for w in re.split(r"\s+", rest) if w and w not in ("AND", "OR", "+", "-", "*:*")]
        for word in words:
            self.where.append(f"doc->>'text' ILIKE {self.bind('%' + word.strip(chr(34)) + '%')}")


class PgPackageSearchQuery(PackageSearchQuery):
    """Answers package_search from the PostgreSQL index."""

    def get_all_entity_ids(self, max_results: int = 1000) -> list[str]:
        ensure_table()
        rows = model.Session.execute(
            text(f"SELECT id FROM {TABLE} WHERE doc->>'state' = 'active' ORDER BY id LIMIT :n"),
            {"n": max_results})
        return [r[0] for r in rows]

    def get_index(self, reference: str) -> dict[str, Any]:
        ensure_table()
        row = model.Session.execute(
            text(f"SELECT id, name, doc, validated_data_dict, data_dict FROM {TABLE}"
                 " WHERE id = :ref OR name = :ref LIMIT 1"), {"ref": reference}).first()
        if row is None:
            raise SearchError(f"Dataset not found in the search index: {reference}")
        return dict(row[2], id=row[0], name=row[1], validated_data_dict=row[3], data_dict=row[4])

    def run(self, query: dict[str, Any], permission_labels: list[str] | None = None,
            **kwargs: Any) -> dict[str, Any]:
        ensure_table()
        if not set(query.keys()) <= VALID_SOLR_PARAMETERS:
            raise SearchQueryError(f"Invalid search parameters: {set(query.keys()) - VALID_SOLR_PARAMETERS}")
        sql = _Sql()
        fqs = [query["fq"]] if isinstance(query.get("fq"), str) else list(query.get("fq") or [])
        fqs += list(query.get("fq_list") or [])
        if not any("+state:" in item for item in fqs):
            fqs.append("+state:active")
        for item in fqs:
            sql.parse(item)
        q = query.get("q") or ""
        if q not in ("*:*", '""', "''"):
            sql.parse(q)
        if permission_labels is not None:
            sql.where.append(f"permission_labels && CAST({sql.bind(list(permission_labels))} AS text[])")
        where = " AND ".join(sql.where) or "true"
        order = self._order(query.get("sort"), sql)
        rows = int(query.get("rows", 10))
        start = int(query.get("start", 0) or 0)
        count = model.Session.execute(text(f"SELECT count(*) FROM {TABLE} WHERE {where}"), sql.params).scalar()
        result = model.Session.execute(
            text(f"SELECT id, name, doc, validated_data_dict, data_dict FROM {TABLE} WHERE {where}"
                 f" ORDER BY {order} LIMIT {rows} OFFSET {start}"),
            sql.params,
        )
        fl = query.get("fl") or "name"
        fields = fl.split() if isinstance(fl, str) else list(fl)
        docs = []
        for rid, name, doc, vdd, dd in result:
            full = dict(doc, id=rid, name=name, validated_data_dict=vdd, data_dict=dd)
            docs.append({k: full.get(k) for k in fields} if fields != ["*"] else full)
        self.count = count
        self.results = docs
        if fields in (["id"], ["name"]):
            self.results = [d[fields[0]] for d in docs]
        self.facets = self._facets(query, where, sql)
        return {"results": self.results, "count": self.count}

    @staticmethod
    def _facets(query: dict[str, Any], where: str, sql: _Sql) -> dict[str, dict[str, int]]:
        fields = query.get("facet.field") or []
        if isinstance(fields, str):
            fields = json.loads(fields) if fields.startswith("[") else [fields]
        if str(query.get("facet", "true")).lower() == "false":
            return {}
        limit = int(query.get("facet.limit", 50) or 50)
        out: dict[str, dict[str, int]] = {}
        for field in fields:
            f = sql.bind(field)
            rows = model.Session.execute(text(
                f"SELECT v, count(*) FROM {TABLE}, LATERAL ("
                f" SELECT jsonb_array_elements_text(doc->{f}) AS v WHERE jsonb_typeof(doc->{f}) = 'array'"
                f" UNION ALL SELECT doc->>{f} WHERE jsonb_typeof(doc->{f}) = 'string') vals"
                f" WHERE {where} AND v <> '' GROUP BY v ORDER BY count(*) DESC, v"
                + (f" LIMIT {limit}" if limit >= 0 else "")
            ), sql.params)
            out[field] = {v: n for v, n in rows}
        return out

    @staticmethod
    def _order(sort: str | None, sql: _Sql) -> str:
        parts = []
        for clause in (sort or "").split(","):
            bits = clause.split()
            if len(bits) != 2 or bits[0] not in SORTABLE:
                continue
            direction = "DESC" if bits[1].lower() == "desc" else "ASC"
            parts.append(f"doc->>{sql.bind(bits[0])} {direction}")
        parts.append("id ASC")
        return ", ".join(parts)
