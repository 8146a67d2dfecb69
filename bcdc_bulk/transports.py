"""How a CKAN catalogue's actions are reached: over HTTP (ckanapi's RemoteCKAN, an API key) or
in-process, inside the CKAN this code runs in, as one signed-in user (ckanapi's LocalCKAN: the web
extension). Both map the API's errors to bcdc_bulk.errors here, the one place they are mapped.
"""
from __future__ import annotations

import contextlib
import re
import threading
from typing import Any, Protocol

from bcdc_bulk import errors
from bcdc_bulk.about import VERSION

USER_AGENT = f"bcdc-bulk/{VERSION}"
# What each action does, in the words an editor would use in an error message.
DOING = {
    "package_search": "reading the records", "organization_list": "listing the organizations",
    "license_list": "reading the licence list", "scheming_dataset_schema_show": "reading the schema",
    "user_show": "checking who the API key belongs to", "package_show": "reading a record",
    "organization_list_for_user": "checking your roles in the organizations",
    "organization_show": "reading an organization's members", "user_list": "reading the users' e-mail addresses",
    "package_patch": "saving a dataset", "package_revise": "saving a dataset", "resource_patch": "saving a resource",
    "package_create": "creating a dataset", "resource_create": "creating a resource",
}


class Transport(Protocol):
    """One way of calling a CKAN's actions."""

    site: str
    user: str | None  # who the calls are made as, when known without asking (in-process)
    anonymous: bool  # no user at all (HTTP without an API key)

    def call(self, action: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        """One action's answer, or a bcdc_bulk error."""


class HttpTransport:
    """A CKAN site over HTTP, with an API key (never shown: not in repr, messages or logs)."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        import ckanapi
        import requests

        self.site = url.rstrip("/")
        self.user: str | None = None
        self.anonymous = not api_key
        self.timeout = timeout
        # the last response of each thread: ckanapi's errors do not carry the status or headers
        self._local = threading.local()
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self._ckan = ckanapi.RemoteCKAN(self.site, apikey=api_key, user_agent=USER_AGENT, session=session)

    def __repr__(self) -> str:  # never show the key
        return f"HttpTransport({self.site!r})"

    def _remember(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._local.response = response
        return response

    def call(self, action: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        """Call one action over HTTP."""
        import requests

        self._local.response = None
        doing, where = DOING.get(action, f"calling {action}"), f"the catalogue at {self.site}"
        try:
            with mapped_errors(where, doing, lambda: getattr(self._local, "response", None)):
                return self._ckan.call_action(action, data, files=files, requests_kwargs={"timeout": self.timeout})
        except requests.Timeout:
            raise errors.TransientError(f"{where} did not answer within {self.timeout:.0f} s while {doing}",
                                 maybe_done=True) from None
        except requests.ConnectionError:
            raise errors.TransientError(f"cannot connect to {self.site} (while {doing}); check the address and "
                                 "your network", maybe_done=True) from None


class InProcessTransport:
    """The CKAN this code runs inside, acting as one signed-in user: their roles decide what may be
    read and written, and no API key is involved."""

    anonymous = False

    def __init__(self, user: str, site: str) -> None:
        import ckanapi

        self.site = site.rstrip("/")
        self.user = user
        self._ckan = ckanapi.LocalCKAN(username=user)  # never None: that would be the site user
        self._app = _flask_app()

    def __repr__(self) -> str:
        return f"InProcessTransport({self.user!r})"

    def call(self, action: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        """Call one action in-process, inside the application's context (apply's worker threads have none)."""
        doing, where = DOING.get(action, f"calling {action}"), f"the catalogue at {self.site}"
        context = self._app.app_context() if self._app is not None and not _has_app_context() else \
            contextlib.nullcontext()
        with context:
            try:
                with mapped_errors(where, doing, lambda: None):
                    return self._ckan.call_action(action, data, files=files)
            except errors.BulkError:
                raise
            except Exception as exc:  # a crash inside an action is what HTTP would show as a 500
                _rollback()
                said = f"{type(exc).__name__}: {str(exc)[:160]}"
                raise errors.TransientError(f"the catalogue failed while {doing}: {said}", status=500,
                                            maybe_done=True) from None


@contextlib.contextmanager
def mapped_errors(where: str, doing: str, last_response: Any) -> Any:
    """ckanapi's (and CKAN's own) errors as bcdc_bulk.errors, in an editor's words."""
    import ckanapi

    try:
        yield
    except ckanapi.NotAuthorized:
        raise errors.NotAuthorized(f"{where} refused access while {doing}: the API key is missing, expired, "
                            "or has no rights here") from None
    except ckanapi.NotFound:
        raise errors.NotFound(f"{where} has no such record (while {doing})") from None
    except ckanapi.ValidationError as exc:
        said = exc.error_dict if isinstance(exc.error_dict, dict) else {"": exc.error_dict}
        said = {k: v for k, v in said.items() if k != "__type"}
        raise errors.ServerValidationError(f"{where} rejected the record: {_summary(said)}", said) from None
    except ckanapi.CKANAPIError:
        response = last_response()
        status = response.status_code if response is not None else None
        if status == 500:
            raise errors.TransientError(f"{where} failed with an internal error (HTTP 500) while {doing}: "
                                 f"{_server_words(response)}", status=status, maybe_done=True) from None
        if status in (429, 502, 503, 504):
            raise errors.TransientError(f"{where} is busy or unavailable (HTTP {status}) while {doing}; "
                                 "try again later", status=status, retry_after=_retry_after(response),
                                 maybe_done=status in (502, 504)) from None
        code = f"HTTP {status}" if status else "an unexpected answer"
        raise errors.CatalogueError(f"{where} failed while {doing} ({code})") from None


def _server_words(response: Any) -> str:
    """What the server said with an error (its JSON message, or the start of its page's text)."""
    try:
        error = response.json().get("error") or {}
        words = error.get("message") if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        words = re.sub(r"<[^>]+>|\s+", " ", getattr(response, "text", "") or "").strip()
    return (words or "no details given")[:200]


def _retry_after(response: Any) -> float | None:
    """Seconds the server asked to wait (Retry-After in seconds; HTTP dates are not used by CKAN)."""
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _summary(said: dict[str, Any]) -> str:
    parts = []
    for key, value in said.items():
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        parts.append(f"{key}: {value}" if key else str(value))
    return ", ".join(parts)[:500]


def _flask_app() -> Any:
    try:
        from flask import current_app

        return current_app._get_current_object()  # type: ignore[attr-defined]
    except (ImportError, RuntimeError):  # outside an application context
        return None


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


def _rollback() -> None:
    try:
        from ckan import model

        model.Session.rollback()
    except Exception:  # noqa: BLE001 (best effort: the session may already be gone)
        pass
