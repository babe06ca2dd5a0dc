"""Optional modules that plug into the CLI and the app (one registry pattern for both)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Iterator


def present(modnames: list[str]) -> Iterator[ModuleType]:
    """The listed modules that exist; a module missing itself is skipped, a broken one raises."""
    for modname in modnames:
        try:
            yield importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
