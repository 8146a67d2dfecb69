"""The sandbox plugin: BCDC validators, the org choices helper, a PostgreSQL
search index in place of Solr, and a sysadmin-only seeding action."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.authz as authz
import ckan.lib.search as search
import ckan.plugins as plugins
from ckan import model
from ckan.plugins import toolkit

from ckanext.bcdc_sandbox import search as pg_search
from ckanext.bcdc_sandbox import validators

PACKAGE_COLUMNS = {
    "id", "name", "title", "version", "url", "author", "author_email", "maintainer",
    "maintainer_email", "notes", "license_id", "type", "owner_org", "creator_user_id",
    "private", "state",
}
PACKAGE_DATES = {"metadata_created", "metadata_modified"}
COMPUTED = {
    "organization", "num_resources", "num_tags", "isopen", "license_title", "license_url",
    "tags", "groups", "resources", "relationships_as_object", "relationships_as_subject",
    "extras", "tracking_summary", "plugin_data",
}
RESOURCE_COLUMNS = {
    "id", "url", "format", "description", "hash", "name", "resource_type", "mimetype",
    "mimetype_inner", "size", "url_type", "state",
}
RESOURCE_DATES = {"created", "last_modified", "metadata_modified", "cache_last_updated"}


def edc_orgs_form(field: dict | None = None) -> list[dict[str, str]]:
    """Choices for a contact's organization, as the catalogue's own helper (ckanext-bcgov) gives
    them: the organizations where the signed-in user may create datasets (all, for a sysadmin)."""
    user = _current_user()
    query = (model.Session.query(model.Group.id, model.Group.title, model.Group.name)
             .filter(model.Group.is_organization.is_(True), model.Group.state == "active"))
    if user is not None and not user.sysadmin:
        allowed = toolkit.get_action("organization_list_for_user")(
            {"user": user.name, "ignore_auth": True}, {"id": user.id, "permission": "create_dataset"})
        query = query.filter(model.Group.id.in_([o["id"] for o in allowed] or [""]))
    return [{"value": oid, "label": title or name} for oid, title, name in query.order_by(model.Group.title).all()]


def _current_user() -> Any:
    """The signed-in user of this request, or None outside a request (seeding, the command line)."""
    try:
        user = toolkit.current_user
        return user if user and user.is_authenticated else None
    except (RuntimeError, AttributeError):
        return None


def _date(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", ""))
    except ValueError:
        return None


def _ensure_org(org: dict[str, Any] | None, owner_org: str | None) -> str | None:
    if not owner_org:
        return None
    existing = model.Group.get(owner_org)
    if existing is not None:
        return existing.id
    if not org:
        raise toolkit.ValidationError({"owner_org": [f"Organization {owner_org} does not exist"]})
    group = model.Group(name=org["name"], title=org.get("title") or org["name"],
                        type="organization", is_organization=True,
                        description=org.get("description") or "")
    group.id = org.get("id") or owner_org
    group.approval_status = "approved"
    group.state = "active"
    model.Session.add(group)
    model.Session.flush()
    return group.id


def seed_package(context: dict, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Store a package exactly as given (a package_show dict), bypassing today's
    schema, as the live catalogue holds records from older eras. Sysadmins only."""
    if not authz.is_sysadmin(context.get("user")):
        raise toolkit.NotAuthorized("Only sysadmins may seed packages")
    pkg_in = dict(data_dict)
    if model.Package.get(pkg_in.get("id") or pkg_in.get("name")) is not None:
        raise toolkit.ValidationError({"id": ["Package already exists"]})
    owner = _ensure_org(pkg_in.get("organization"), pkg_in.get("owner_org"))
    user = model.User.get(context.get("user"))
    pkg = model.Package()
    for key in PACKAGE_COLUMNS:
        if key in pkg_in:
            setattr(pkg, key, pkg_in[key])
    pkg.owner_org = owner
    pkg.type = pkg_in.get("type") or "bcdc_dataset"
    pkg.state = pkg_in.get("state") or "active"
    pkg.private = bool(pkg_in.get("private"))
    pkg.creator_user_id = pkg_in.get("creator_user_id") or (user.id if user else None)
    for key in PACKAGE_DATES:
        if _date(pkg_in.get(key)):
            setattr(pkg, key, _date(pkg_in[key]))
    model.Session.add(pkg)
    model.Session.flush()

    composite = _composite_fields()
    for key, value in pkg_in.items():
        if key in PACKAGE_COLUMNS or key in PACKAGE_DATES or key in COMPUTED:
            continue
        if key in composite:
            stored = json.dumps(_as_list(value))  # scheming json.loads composite extras on show
        elif isinstance(value, str):
            stored = value
        elif value is None:
            continue
        else:
            stored = json.dumps(value)
        model.Session.add(model.PackageExtra(package_id=pkg.id, key=key, value=stored))
    for extra in pkg_in.get("extras") or []:
        model.Session.add(model.PackageExtra(package_id=pkg.id, key=extra["key"], value=extra["value"]))

    for tag_in in pkg_in.get("tags") or []:
        tag = model.Tag.by_name(tag_in["name"]) or model.Tag(name=tag_in["name"])
        model.Session.add(tag)
        model.Session.add(model.PackageTag(package=pkg, tag=tag, state="active"))

    for group_in in pkg_in.get("groups") or []:
        group = model.Group.get(group_in.get("id") or group_in.get("name"))
        if group is not None and not group.is_organization:
            model.Session.add(model.Member(group=group, table_id=pkg.id, table_name="package",
                                           capacity="public", state="active"))

    res_composite = _composite_fields("resource_fields")
    for position, res_in in enumerate(pkg_in.get("resources") or []):
        res = model.Resource(package_id=pkg.id)
        extras = {}
        for key, value in res_in.items():
            if key in RESOURCE_COLUMNS:
                setattr(res, key, value)
            elif key in RESOURCE_DATES:
                setattr(res, key, _date(value))
            elif key in res_composite:
                extras[key] = _as_list(value)
            elif key not in ("package_id", "position", "datastore_active", "cache_url"):
                extras[key] = value
        res.url = res_in.get("url") or ""
        res.position = position
        res.state = res_in.get("state") or "active"
        res.extras = extras
        model.Session.add(res)
    model.Session.flush()
    model.repo.commit()
    search.rebuild(pkg.id)
    model.repo.commit()
    return toolkit.get_action("package_show")(dict(context, ignore_auth=True), {"id": pkg.id})


def seed_organization(context: dict, data_dict: dict[str, Any]) -> dict[str, Any]:
    """Create an organization with the given id; a parent named in ``groups`` is
    linked as BCDC holds its hierarchy. Sysadmins only."""
    if not authz.is_sysadmin(context.get("user")):
        raise toolkit.NotAuthorized("Only sysadmins may seed organizations")
    org_id = _ensure_org(data_dict, data_dict.get("id") or data_dict["name"])
    for parent_in in data_dict.get("groups") or []:
        parent = model.Group.get(parent_in.get("name") or parent_in.get("id"))
        if parent is None:
            raise toolkit.ValidationError({"groups": [f"Unknown parent {parent_in}"]})
        # organization_show lists as `groups` the groups that are members of
        # this one: BCDC records the parent that way on the child.
        model.Session.add(model.Member(group=model.Group.get(org_id), table_id=parent.id, table_name="group",
                                       capacity=parent_in.get("capacity") or "public", state="active"))
    model.repo.commit()
    return toolkit.get_action("organization_show")(dict(context, ignore_auth=True), {"id": org_id})


def _composite_fields(kind: str = "dataset_fields") -> set[str]:
    from ckanext.scheming.helpers import scheming_get_dataset_schema

    schema = scheming_get_dataset_schema("bcdc_dataset") or {}
    return {f["field_name"] for f in schema.get(kind, []) if "repeating_subfields" in f}


def _as_list(value: Any) -> Any:
    """Composite-era records hold repeating fields as JSON text. Today's
    scheming cannot even show such a record (DataError on a str against a
    subschema), so the sandbox stores the decoded list; every other legacy
    value (old choices, private: Display, upper-case formats) is kept as is."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            return value
    if isinstance(value, dict):
        value = [value] if any(v not in ("", None) for v in value.values()) else []
    if isinstance(value, list):
        # scheming's output validators json.loads subfield values: a bool (composite-era contacts say
        # "displayed": true) would crash every package_show, so it is kept as the JSON text that reads back as it
        value = [{k: json.dumps(v) if isinstance(v, bool) else v for k, v in entry.items()}
                 if isinstance(entry, dict) else entry for entry in value]
    return value


class BcdcSandboxPlugin(plugins.SingletonPlugin):
    """Wires the sandbox's pieces into CKAN."""

    plugins.implements(plugins.IConfigurer)
    plugins.implements(plugins.IValidators)
    plugins.implements(plugins.ITemplateHelpers)
    plugins.implements(plugins.IActions)

    def update_config(self, config: Any) -> None:
        search._INDICES["package"] = pg_search.PgPackageSearchIndex
        search._QUERIES["package"] = pg_search.PgPackageSearchQuery
        # group_dictize builds PackageSearchQuery directly for dataset counts
        search.PackageSearchQuery = pg_search.PgPackageSearchQuery  # type: ignore[misc]

    def get_validators(self) -> dict[str, Any]:
        # with the catalogue's own plugin (bcgov_schema) loaded, its validators are the ones in force
        if toolkit.config.get("bcdc_sandbox.validators") == "upstream":
            return {}
        return {
            "conditional_required": validators.conditional_required,
            "iso_topic_category": validators.iso_topic_category,
            "valid_next_state": validators.valid_next_state,
            "title_validator": validators.title_validator,
            "single_value_subfield": validators.single_value_subfield,
        }

    def get_helpers(self) -> dict[str, Any]:
        helpers: dict[str, Any] = {"edc_orgs_form": edc_orgs_form}
        # ckanext-fluent's newest source chains onto a helper of ckanext-scheming's form pages, which
        # scheming 3.1.0 (the newest release) lacks and never calls; CKAN refuses to start a chain
        # with no base, so the multilingual DCAT-AP catalogue gets the base scheming would give
        if toolkit.asbool(toolkit.config.get("bcdc_sandbox.fluent_base_helper", False)):
            helpers["scheming_missing_required_fields"] = no_missing_fields
        return helpers

    def get_actions(self) -> dict[str, Any]:
        return {"bcdc_sandbox_seed": seed_package, "bcdc_sandbox_seed_organization": seed_organization,
                "bcdc_sandbox_validators": validator_modules}


def no_missing_fields(pages: list[dict], data: dict | None = None, package_id: str | None = None) -> list[list]:
    """The form pages' missing fields as scheming 3.1.0 knows them: none (it has no form pages)."""
    return [[] for _ in pages]


@toolkit.side_effect_free
def validator_modules(context: dict, data_dict: dict[str, Any]) -> dict[str, str]:
    """Which module each BCDC validator in force comes from (the catalogue's own, or the sandbox's)."""
    names = ("conditional_required", "iso_topic_category", "valid_next_state", "title_validator",
             "single_value_subfield")
    return {name: getattr(toolkit.get_validator(name), "__module__", "") for name in names} | {
        "edc_orgs_form": edc_orgs_form.__module__}
