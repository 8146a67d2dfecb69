"""The CKAN plugin: registers the pages, the templates and the helpers."""
from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
from ckan.plugins import toolkit


class BulkPlugin(plugins.SingletonPlugin):
    """bcdc_bulk: download an organization's records as a workbook, upload it edited, check, apply."""

    plugins.implements(plugins.IConfigurer)
    plugins.implements(plugins.IBlueprint)
    plugins.implements(plugins.ITemplateHelpers)

    def update_config(self, config: Any) -> None:
        """Our templates first (the organization page gains a Bulk edit tab)."""
        toolkit.add_template_directory(config, "templates")

    def get_blueprint(self) -> Any:
        """The pages (views.py)."""
        from bcdc_bulk.web.views import bulk

        return bulk

    def get_helpers(self) -> dict[str, Any]:
        """h.bcdc_bulk_may_edit(org id): whether the signed-in user sees the Bulk edit tab."""
        return {"bcdc_bulk_may_edit": may_edit}


def may_edit(org_id: str) -> bool:
    """True when the signed-in user may create datasets in the organization (editors, admins, sysadmins)."""
    from ckan import authz

    user = toolkit.current_user
    if not getattr(user, "is_authenticated", False):
        return False
    return authz.is_sysadmin(user.name) or authz.has_user_permission_for_group_or_org(org_id, user.name,
                                                                                     "create_dataset")
