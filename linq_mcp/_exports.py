"""Lazy package exports: a package's ``__init__`` names what it offers; each name loads on first use.

A stdio server answers ``initialize`` and ``tools/list`` before httpx, the sandbox or the
stores are imported (the measured fast start). Eager re-exports in a package ``__init__``
would import all of them as soon as any one submodule is touched, so every package maps
its exported names to submodules and imports one only when a name is asked for.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``where`` maps each exported name to its submodule."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # once loaded, a plain attribute
        return value

    return __getattr__
