"""The CKAN plugin ``bcdc_bulk``: registers the pages, templates, helpers and the ``ckan bcdc-bulk``
commands. It lives here, under ckanext/, because that is where CKAN looks for a plugin's database
migrations; everything it registers is in bcdc_bulk.web."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import ckan.plugins as plugins
from ckan.plugins import toolkit

import bcdc_bulk.web


class BulkPlugin(plugins.SingletonPlugin):
    """bcdc_bulk: download an organization's records as a workbook, upload it edited, check, apply."""

    plugins.implements(plugins.IConfigurer)
    plugins.implements(plugins.IBlueprint)
    plugins.implements(plugins.ITemplateHelpers)
    plugins.implements(plugins.IClick)
    plugins.implements(plugins.IConfigDeclaration)

    def declare_config_options(self, declaration: Any, key: Any) -> None:
        """The bcdc_bulk.* settings, with their defaults (the README's table)."""
        group = key.bcdc_bulk
        for name, default in (("max_upload_mb", "20"), ("workers", "4"), ("rate", "0"), ("stale_seconds", "120"),
                              ("keep_days", "365"), ("inline_datasets", "200")):
            declaration.declare(getattr(group, name), default)

    def update_config(self, config: Any) -> None:
        """Our templates first (the organization page gains a Bulk edit tab)."""
        toolkit.add_template_directory(config, str(Path(bcdc_bulk.web.__file__).parent / "templates"))

    def get_blueprint(self) -> Any:
        """The pages (bcdc_bulk.web.views)."""
        from bcdc_bulk.web.views import bulk

        return bulk

    def get_helpers(self) -> dict[str, Any]:
        """h.bcdc_bulk_may_edit(org id): whether the signed-in user sees the Bulk edit tab."""
        from bcdc_bulk.web.access import may_edit

        return {"bcdc_bulk_may_edit": may_edit}

    def get_commands(self) -> list[Any]:
        """``ckan bcdc-bulk purge`` and ``ckan bcdc-bulk sweep``."""
        from bcdc_bulk.web.commands import bcdc_bulk_group

        return [bcdc_bulk_group]
