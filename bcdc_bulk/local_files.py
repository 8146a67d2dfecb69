"""Whether a workbook may make this computer upload one of its files, and which.

A new resource whose URL has no scheme (``data/roads.csv``) names a file to upload. On a person's
own computer (the command line) that is a convenience: they could upload the file anyway. On a
server (the CKAN extension) it would let anyone who can upload a workbook have the server read
its own files (``/etc/hostname``, the site's ``ckan.ini``) and publish them as a resource, so there
a resource URL must be a web address, and nothing in a workbook is ever opened as a file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcdc_bulk.messages import Say, said
from bcdc_bulk.problems import Code, say

WEB_ADDRESS = re.compile(r"^(https?|ftp)://[^\s/?#]+", re.IGNORECASE)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# URL schemes that name files on the machine that reads them, or run code: never web addresses
LOCAL_SCHEMES = ("file:", "smb:", "javascript:", "data:", "vbscript:")


@dataclass(frozen=True)
class LocalFiles:
    """The policy: ``allowed`` (may a new resource's URL name a local file to upload?) and ``base``
    (the folder a relative path is read from: the workbook's)."""

    allowed: bool = True
    base: Path | None = None

    def path(self, url: str) -> Path:
        """The file a local URL names (relative paths from ``base``)."""
        path = Path(url).expanduser()
        return path if path.is_absolute() else (self.base or Path.cwd()) / path


SERVER = LocalFiles(allowed=False)  # what a web server must use


def is_web_address(url: Any) -> bool:
    """True for an http://, https:// or ftp:// address (what a server may accept as a resource URL)."""
    return isinstance(url, str) and bool(WEB_ADDRESS.match(url.strip()))


def not_on_a_server(url: Any) -> str | None:
    """Why a resource URL cannot be taken in the catalogue's web pages ('' or a web address: None)."""
    if not isinstance(url, str) or not url.strip() or is_web_address(url):
        return None
    text = url.strip()
    if text.lower().startswith(LOCAL_SCHEMES) or text.startswith(("\\\\", "//")):
        variant = "local"
    elif not SCHEME.match(text) or re.match(r"^[a-z]:[\\/]", text, re.IGNORECASE):
        variant = "path"
    else:
        variant = "scheme"
    return say(Code.URL_NOT_WEB, variant, url=text[:80], scheme=text.split(":", 1)[0])


def file_size_text(path: Path) -> str:
    """'12.3 KB' for a file (or 'not found')."""
    try:
        size = path.stat().st_size
    except OSError:
        return said(Say.FILE_NOT_FOUND)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
