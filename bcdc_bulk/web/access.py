"""Who may do what in the web extension: the signed-in user, and their rights in an organization
(editors and admins edit in bulk; admins also undo runs and take inventories; sysadmins the whole
catalogue's inventory).
Decided once per request, from CKAN's own authorization."""
from __future__ import annotations

import bcdc_bulk as bb


def may_edit(org_id: str) -> bool:
    """True when the signed-in user may create datasets in the organization (editors, admins, sysadmins)."""
    from ckan import authz
    from ckan.plugins import toolkit

    user = toolkit.current_user
    if not getattr(user, "is_authenticated", False):
        return False
    return authz.is_sysadmin(user.name) or authz.has_user_permission_for_group_or_org(org_id, user.name,
                                                                                     "create_dataset")


NO_COUNTS: dict[str, dict] = {"owner_org": {}, "groups": {}}


class OrgPage:
    """The signed-in user and what they may do in one organization (403 for those who may not edit)."""

    def __init__(self, org_ref: str) -> None:
        from ckan import authz
        from ckan.plugins import toolkit

        self.user: str = signed_in()
        try:
            # Without a count: CKAN counts an organization's datasets with a search on every
            # organization_show, and the progress page asks for its run's state every second.
            self.org = toolkit.get_action("organization_show")(
                {"user": self.user, "dataset_counts": NO_COUNTS},
                {"id": org_ref, "include_datasets": False, "include_users": False})
        except (toolkit.ObjectNotFound, toolkit.NotAuthorized):
            toolkit.abort(404, "No such organization")
        self.sysadmin = authz.is_sysadmin(self.user)
        role = authz.users_role_for_group_or_org(self.org["id"], self.user)
        self.admin = self.sysadmin or role == "admin"
        if not (self.sysadmin or authz.has_user_permission_for_group_or_org(self.org["id"], self.user,
                                                                            "create_dataset")):
            toolkit.abort(403, "Only editors and admins of this organization may edit its records in bulk.")

    def catalogue(self) -> bb.Catalogue:
        """The catalogue as this user sees it."""
        from ckan.plugins import toolkit

        return bb.connect_as(self.user, toolkit.config.get("ckan.site_url"))


class Login(Exception):
    """The page needs a signed-in user."""


def signed_in() -> str:
    """The signed-in user's name (Login, which the pages answer with the login page, when nobody is)."""
    from ckan.plugins import toolkit

    user = toolkit.current_user
    if not getattr(user, "is_authenticated", False):
        raise Login()
    return user.name
