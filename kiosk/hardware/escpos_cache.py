"""A lasting, race-free place for python-escpos's capabilities pickle.

Without one, python-escpos parses its capabilities file and pickles it into a
fresh ``mkdtemp()`` on every import: ~0.8 s of CPU on a worker thread while the
first screen is being built (it holds the GIL), and a pickle left behind in a
temp dir per start.

A shared folder alone is not enough: python-escpos writes the pickle in place
(it opens the file for writing, parses for ~0.8 s, then dumps), and rewrites it
whenever its capabilities file is newer than the pickle (an upgrade, a second
virtual environment, a fresh CI clone). A second process importing it meanwhile
(two kiosks, a kiosk and ``kiosk selftest``, parallel test workers) loads the
empty file and fails with ``EOFError``. So each capabilities file gets a folder
of its own (named by its path, size and mtime: never rewritten), and the pickle
is built in a private temporary folder and renamed into place whole.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

PICKLE_DIR_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _capabilities_file() -> Path | None:
    explicit = os.environ.get("ESCPOS_CAPABILITIES_FILE")
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"


def _cache_bases() -> list[str]:
    return [b for b in (os.environ.get("XDG_CACHE_HOME"), str(Path.home() / ".cache")) if b]


def keep_capabilities() -> None:
    """Point python-escpos at a complete capabilities pickle before it is imported.

    An explicit ``ESCPOS_CAPABILITIES_PICKLE_DIR`` wins; once python-escpos is
    imported this does nothing. Any failure leaves python-escpos to its default
    (a private temp dir), which is slower but correct.
    """
    if os.environ.get(PICKLE_DIR_ENV) or "escpos.capabilities" in sys.modules:
        return
    caps = _capabilities_file()
    try:
        st = caps.stat() if caps is not None else None
    except OSError:
        st = None
    if caps is None or st is None:
        return
    key = hashlib.sha256(f"{caps.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:16]
    for base in _cache_bases():
        folder = Path(base) / "kiosk-escpos" / key
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if not os.access(folder, os.W_OK):
            continue
        final = folder / f"{platform.python_version()}.capabilities.pickle"
        if not final.exists():
            _build(folder, final)
            return  # python-escpos is imported now, with its capabilities in memory
        os.environ[PICKLE_DIR_ENV] = str(folder)
        return


def _build(folder: Path, final: Path) -> None:
    """Import python-escpos with a private pickle folder, then move the finished pickle into place."""
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
    os.environ[PICKLE_DIR_ENV] = str(work)
    try:
        import escpos.capabilities  # noqa: F401  (parses the capabilities file, writes work/<name>)

        built = work / final.name
        if built.is_file() and built.stat().st_size > 0:
            os.replace(built, final)  # atomic: another process sees no pickle or a whole one
    finally:
        os.environ[PICKLE_DIR_ENV] = str(folder)
        shutil.rmtree(work, ignore_errors=True)
