"""Where to connect and as whom: resolved from flags, environment and config file.

Nothing here reads the environment at import time; callers pass it in.
"""
from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bcdc_bulk.errors import ConfigError

SHORTCUTS = {
    "prod": "https://catalogue.data.gov.bc.ca",
    "test": "https://cat.data.gov.bc.ca",
}
KEY_VARIABLES = ("BCDC_API_KEY", "CKAN_API_KEY")


@dataclass(frozen=True)
class Remote:
    """A catalogue to talk to: a CKAN site URL, or a dump file on disk."""

    url: str | None = None
    path: Path | None = None
    name: str = ""

    @property
    def is_file(self) -> bool:
        """True when the remote is an offline catalogue file."""
        return self.path is not None

    @property
    def is_production(self) -> bool:
        """True for the production catalogue (apply asks before writing there)."""
        return self.url is not None and _host(self.url) == _host(SHORTCUTS["prod"])


@dataclass(frozen=True)
class Settings:
    """What one command needs to know about its environment."""

    remote: Remote | None = None
    api_key: str | None = field(default=None, repr=False)
    quiet: bool = False
    debug: bool = False
    schema_path: Path | None = None  # the catalogue's scheming schema file (--schema), for offline work
    presets: tuple[Path, ...] = ()  # its presets files (--presets)
    dataset_type: str | None = None  # which of a site's dataset types (--dataset-type)


def _host(url: str) -> str:
    """A URL's host as people mean it: lower case, without 'www.' and port."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def resolve_remote(value: str, env: Mapping[str, str] | None = None, config_path: Path | None = None) -> Remote:
    """Turn ``-r`` into a Remote: a shortcut, an http(s) URL, a catalogue file, or a site named by a
    ``[name]`` section of the config file (``url = https://...``). A catalogue given by its full address
    is that shortcut (so production is always recognised as such)."""
    if value in SHORTCUTS:
        return Remote(url=SHORTCUTS[value], name=value)
    if value.lower().startswith(("http://", "https://")):
        for name, url in SHORTCUTS.items():
            if _host(value) == _host(url) and value.split("//", 1)[1].partition("/")[2].strip("/") == "":
                return Remote(url=url, name=name)
        return Remote(url=value.rstrip("/"), name=value.rstrip("/"))
    path = Path(value)
    if path.exists():
        if path.is_dir():
            raise ConfigError(f"{value} is a folder; give a catalogue file (.jsonl) or a CKAN URL")
        return Remote(path=path, name=str(path))
    named = _configured_url(value, config_path or (default_config_path(env) if env is not None else None))
    if named:
        return Remote(url=named.rstrip("/"), name=value)
    raise ConfigError(
        f"unknown remote '{value}': use prod, test, an http(s) URL, the path of a catalogue file, or a site "
        "named in the config file (a [name] section with url = ...)"
    )


def _configured_url(name: str, path: Path | None) -> str | None:
    """The url of config section [name], if the config file has one."""
    parser = read_config(path)
    if parser is None:
        return None
    url = parser.get(name, "url", fallback="").strip() if parser.has_section(name) else ""
    if url and not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"the config file's [{name}] url must start with http:// or https://")
    return url or None


def read_config(path: Path | None) -> configparser.ConfigParser | None:
    """The config file, parsed (None when there is none); a broken one is an error naming it."""
    if path is None or not path.exists():
        return None
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.message}") from None
    return parser


def default_config_path(env: Mapping[str, str]) -> Path:
    """~/.config/bcdc-bulk/config.ini (or under XDG_CONFIG_HOME)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "bcdc-bulk" / "config.ini"


def resolve_api_key(explicit: str | None, remote: Remote | None, env: Mapping[str, str],
                    config_path: Path | None = None) -> str | None:
    """The API key: --apikey, else BCDC_API_KEY, else CKAN_API_KEY, else the config file.

    The config file is INI; a section named after the remote (``prod``, ``test``
    or the URL) or ``[default]`` holds ``apikey = ...``.
    """
    if explicit:
        return explicit
    for name in KEY_VARIABLES:
        if env.get(name):
            return env[name]
    parser = read_config(config_path or default_config_path(env))
    if parser is None:
        return None
    for section in ([remote.name] if remote else []) + ["default"]:
        if parser.has_option(section, "apikey"):
            return parser.get(section, "apikey").strip() or None
    return None


def current_env() -> Mapping[str, str]:
    """The process environment, read when a command runs (never at import)."""
    return os.environ
