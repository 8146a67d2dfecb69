"""The BCDC schema's custom validators, written from the rules the catalogue enforces.

Behaviour mirrors the live catalogue's validators, quirks included, because the
sandbox exists to tell bcdc-bulk what the real server accepts:

- conditional_required looks its condition field up at the top level of the
  package only. On a resource the key is ('resources', n, field) and the lookup
  of (field,) finds nothing, so the rule never fires for resource fields.
- title_validator refuses a title used by any other package whatever its state
  (the live check compares the state with 'DELETED', which never matches).
- valid_next_state checks the move from the stored publish_state to the new one
  and whether the user's role in the package's organization allows it.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.authz as authz
import ckan.lib.navl.dictization_functions as df
from ckan.plugins.toolkit import Invalid

from ckanext.scheming import helpers as sh
from ckanext.scheming.validation import scheming_validator

missing = df.missing
TITLE_MIN = 2
TITLE_MAX = 100


@scheming_validator
def conditional_required(field: dict, schema: dict):
    """Required when the top-level conditional_field holds one of conditional_values."""
    cond_field = field.get("conditional_field")
    cond_values = field.get("conditional_values") or []

    def validator(key, data, errors, context):
        value = data.get(key)
        if value is missing or value is None:
            value = ""
        data[key] = value
        if not cond_field:
            return
        source = data.get((cond_field,))
        if source and source in cond_values and not value:
            raise Invalid(f"Required when {cond_field} is set to {source}")

    return validator


@scheming_validator
def iso_topic_category(field: dict, schema: dict):
    """Multiple choice that tolerates empty entries; stores a JSON list string."""
    order = [c["value"] for c in field.get("choices", [])]

    def validator(key, data, errors, context):
        if errors[key]:
            return
        value = data[key]
        if value is missing or value is None:
            value = []
        elif isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = [value]
            if not isinstance(value, list):
                value = [value]
        elif not isinstance(value, list):
            errors[key].append("expecting list of strings")
            return
        choices = order or [c["value"] for c in sh.scheming_field_choices(field)]
        selected = set()
        for element in value:
            if element in choices:
                selected.add(element)
            elif element != "":
                errors[key].append(f'unexpected choice "{element}"')
        if not errors[key]:
            data[key] = json.dumps([v for v in choices if v in selected])
            if field.get("required") and not selected:
                errors[key].append("Select at least one")

    return validator


@scheming_validator
def single_value_subfield(field: dict, schema: dict):
    """A repeating-subfields field that may hold one entry at most."""

    def validator(key, data, errors, context):
        value = data.get(key)
        if isinstance(value, list) and len(value) > 1:
            raise Invalid(f"Field {key} can only have a single entry")

    return validator


@scheming_validator
def title_validator(field: dict, schema: dict):
    """Title unique across packages and between 2 and 100 characters."""

    def validator(key, data, errors, context):
        if errors[key]:
            return
        model = context["model"]
        session = context["session"]
        value = data[key]
        if value is missing or value is None:
            return
        package = context.get("package")
        package_id = package.id if package else data.get(key[:-1] + ("id",))
        query = session.query(model.Package.id).filter(model.Package.title == value)
        if package_id and package_id is not missing:
            query = query.filter(model.Package.id != package_id)
        if query.first() is not None:
            errors[key].append("That Title is already in use.")
        if len(value) < TITLE_MIN:
            raise Invalid(f'Title "{value}" length is less than minimum {TITLE_MIN}')
        if len(value) > TITLE_MAX:
            raise Invalid(f'Title "{value}" length is more than maximum {TITLE_MAX}')

    return validator


@scheming_validator
def valid_next_state(field: dict, schema: dict):
    """publish_state may only move along the schema's state machine, by role."""
    start = field["startState"]
    next_states = {c["value"]: c.get("validTo", []) for c in field.get("choices", [])}

    def validator(key, data, errors, context):
        if errors[key]:
            return
        model = context["model"]
        new = data[key]
        package = context.get("package")
        current = None
        if package is not None:
            current = _stored_state(model, context["session"], package.id, key[-1])
        if current is not None and current == new:
            return
        options = next_states.get(current, []) if current is not None else [start]
        allowed_by: list[str] = []
        for option in options:
            if option["state"] == new:
                allowed_by = option["by"]
        if new not in [o["state"] for o in options]:
            valid = ", ".join(o["state"] for o in options)
            errors[key].append(f"Invalid state valid choices are: {valid}")
            return

        user = model.User.get(context.get("user"))
        org_id = None
        if package is not None and getattr(package, "owner_org", None):
            org_id = package.owner_org
        elif data.get(("owner_org",)) not in (None, missing):
            org_id = data.get(("owner_org",))
        is_sysadmin = bool(user and user.sysadmin)
        is_admin = bool(
            user and org_id and authz.has_user_permission_for_group_or_org(org_id, user.name, "admin")
        )
        is_editor = bool(
            user
            and org_id
            and authz.has_user_permission_for_group_or_org(org_id, user.name, "update_dataset")
        )
        permitted = (
            ("sysadmin" in allowed_by and is_sysadmin)
            or ("admin" in allowed_by and is_admin)
            or ("editor" in allowed_by and is_editor)
        )
        if not permitted:
            who = ", ".join(allowed_by)
            errors[key].append(f"You lack permission to move to this state, you must be one of {who}")

    return validator


def _stored_state(model: Any, session: Any, package_id: str, field_name: str) -> str | None:
    """The publish_state the package has in the database now (None for a new package)."""
    row = (
        session.query(model.PackageExtra.value)
        .filter(model.PackageExtra.package_id == package_id)
        .filter(model.PackageExtra.key == field_name)
        .first()
    )
    return row[0] if row else None
