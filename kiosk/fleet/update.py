"""Software updates in versioned release directories with an atomic ``current`` switch.

Layout under a base directory (e.g. ``/opt/kiosk``)::

    releases/<version>/    one complete tree per version; ``RELEASE`` (its version) is written last
    current -> releases/<version>     what systemd starts
    previous -> releases/<version>    where a rollback goes
    update.json            {"pending": version, "boots": n} while a new version is on probation

Every step is atomic (directory rename, symlink made beside and renamed over
the old one, files via temp → fsync → rename, then fsync of the directory),
so a power cut at any moment leaves ``current`` pointing at a complete
release. :func:`boot` runs at every start: a version on probation that has
already been started ``MAX_BOOTS`` times without :func:`mark_good` (health
check passed: attract screen drawn, devices up, platform reachable) is rolled
back to ``previous``. Tolerating a few boots matters: field reports show
power cuts during a first boot exhausting one-shot counters (docs/fleet.md).

Not wired yet: the ``update`` command that downloads and verifies a signed
release, and the health check calling :func:`mark_good` (see docs/fleet.md).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from kiosk.core.storage import fsync_dir as _fsync_dir
from kiosk.core.storage import write_text_atomic

MAX_BOOTS = 3
_STEP_DELAY = "KIOSK_TEST_UPDATE_STEP_DELAY"  # test hook: seconds to pause between steps (kill -9 tests)


def _pause() -> None:
    delay = float(os.environ.get(_STEP_DELAY, "0") or 0)
    if delay:
        time.sleep(delay)


def _link(base: Path, name: str, target: str) -> None:
    """``base/name -> target``, atomically replacing an old link."""
    tmp = base / f".{name}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, base / name)
    _fsync_dir(base)


def complete(release: Path) -> bool:
    return (release / "RELEASE").is_file()


def current_version(base: Path) -> str | None:
    cur = base / "current"
    if not cur.is_symlink() or not complete(cur.resolve()):
        return None
    return (cur.resolve() / "RELEASE").read_text("utf-8").strip()


def _state(base: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((base / "update.json").read_text("utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("RELEASE"))
    for root, _dirs, files in os.walk(dst):
        for name in files:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def install(base: Path, version: str, source: Path) -> None:
    """Put ``source`` in as ``version`` and switch ``current`` to it (on probation)."""
    releases = base / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / version
    if not complete(final):
        staging = releases / f".{version}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        _copy_tree(source, staging)
        _pause()
        write_text_atomic(staging / "RELEASE", version + "\n")  # the mark of a complete tree
        _pause()
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        _fsync_dir(releases)
    _pause()
    cur = base / "current"
    if cur.is_symlink() and complete(cur.resolve()) and cur.resolve() != final.resolve():
        _link(base, "previous", os.readlink(cur))
    _pause()
    write_text_atomic(base / "update.json", json.dumps({"pending": version, "boots": 0}))
    _pause()
    _link(base, "current", f"releases/{version}")


def rollback(base: Path) -> str | None:
    """``current`` := ``previous``; the version rolled back to, or None if there is none."""
    prev = base / "previous"
    if not prev.is_symlink() or not complete(prev.resolve()):
        return None
    _link(base, "current", os.readlink(prev))
    write_text_atomic(base / "update.json", json.dumps({}))
    return current_version(base)


def boot(base: Path) -> str:
    """At every start, before the app: count a probation boot, roll back after ``MAX_BOOTS``.

    Returns what happened: ``ok``, ``probation``, ``rolled_back`` or ``repaired``.
    """
    if current_version(base) is None:  # never after install(); only if the tree was damaged by hand
        return "repaired" if rollback(base) else "broken"
    state = _state(base)
    if not state.get("pending"):
        return "ok"
    boots = int(state.get("boots", 0)) + 1
    if boots > MAX_BOOTS:
        rollback(base)
        return "rolled_back"
    write_text_atomic(base / "update.json", json.dumps({**state, "boots": boots}))
    return "probation"


def mark_good(base: Path) -> None:
    """The health check passed: the version on probation stays."""
    write_text_atomic(base / "update.json", json.dumps({}))
