"""What this tool is called and which version it is (from the installed package's metadata)."""
from __future__ import annotations

from importlib import metadata

NAME = "bcdc-bulk"


def _version() -> str:
    try:
        return metadata.version(NAME)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


VERSION = _version()
