"""Finds the packaged collector specs and mapping files, from a wheel or a checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # An installed wheel carries the specs as package data (pyproject force-include);
    # an editable checkout has them at the repository root, two levels above src/awsresp.
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE_DIR.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"awsresp installation is incomplete: no '{name}' directory found")


def collectors_dir() -> Path:
    return _data_dir("collectors")


def mappings_dir() -> Path:
    return _data_dir("mappings")


# libyaml's parser where PyYAML was built with it (the PyPI wheels are): the same safe
# loader, about ten times faster; a scan's start parses some 200 KB of specs and mappings.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """yaml.safe_load, with libyaml when available; raises yaml.YAMLError alike."""
    return yaml.load(text, Loader=_SafeLoader)
