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

The ``update`` fleet command (:mod:`kiosk.fleet.release`) calls :func:`prepare`
as soon as the archive is verified and :func:`switch` between visits; the app's
health check (:mod:`kiosk.fleet.probation`) calls :func:`mark_good`. systemd
runs ``python -m kiosk.fleet.update boot BASE`` as ``ExecStartPre``
(systemd/README.md).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
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


def state(base: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((base / "update.json").read_text("utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("RELEASE"))
    sync_tree(dst)


def sync_tree(top: Path) -> None:
    """fsync every file and directory below ``top`` (before a rename makes the tree count)."""
    for root, _dirs, files in os.walk(top):
        for name in files:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def prepare(base: Path, version: str, source: Path, build: Callable[[Path], None] | None = None) -> Path:
    """Copy ``source`` in as ``releases/<version>`` (complete once ``RELEASE`` exists); nothing switches.

    ``build(tree)`` runs on the staged copy before it is marked complete (the release's own
    dependencies, kiosk.fleet.deps); if it raises, the staging goes and the error propagates.
    """
    releases = base / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / version
    if not complete(final):
        staging = releases / f".{version}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        _copy_tree(source, staging)
        if build is not None:
            try:
                build(staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            sync_tree(staging)
        _pause()
        write_text_atomic(staging / "RELEASE", version + "\n")  # the mark of a complete tree
        _pause()
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        _fsync_dir(releases)
    return final


def switch(base: Path, version: str) -> None:
    """``current`` := ``releases/<version>`` (prepared before), on probation; the old one becomes ``previous``."""
    final = base / "releases" / version
    if not complete(final):
        raise FileNotFoundError(f"release {version} is not complete under {base}")
    _pause()
    cur = base / "current"
    if cur.is_symlink() and complete(cur.resolve()) and cur.resolve() != final.resolve():
        _link(base, "previous", os.readlink(cur))
    _pause()
    write_text_atomic(base / "update.json", json.dumps({"pending": version, "boots": 0}))
    _pause()
    _link(base, "current", f"releases/{version}")


def install(base: Path, version: str, source: Path) -> None:
    """Put ``source`` in as ``version`` and switch ``current`` to it (on probation)."""
    prepare(base, version, source)
    switch(base, version)


def pending(base: Path) -> str | None:
    """The version on probation (switched to, health check not yet passed), if any."""
    return state(base).get("pending") or None


def rollback(base: Path) -> str | None:
    """``current`` := ``previous``; the version rolled back to, or None if there is none."""
    prev = base / "previous"
    if not prev.is_symlink() or not complete(prev.resolve()):
        return None
    failed = state(base).get("pending")
    _link(base, "current", os.readlink(prev))
    # Kept so the app can tell the fleet after the restart (kiosk.fleet.probation).
    write_text_atomic(base / "update.json", json.dumps({"rolled_back": failed} if failed else {}))
    return current_version(base)


def boot(base: Path) -> str:
    """At every start, before the app: count a probation boot, roll back after ``MAX_BOOTS``.

    Returns what happened: ``ok``, ``probation``, ``rolled_back`` or ``repaired``.
    """
    if current_version(base) is None:  # never after install(); only if the tree was damaged by hand
        return "repaired" if rollback(base) else "broken"
    doc = state(base)
    if not doc.get("pending"):
        return "ok"
    boots = int(doc.get("boots", 0)) + 1
    if boots > MAX_BOOTS:
        rollback(base)
        return "rolled_back"
    write_text_atomic(base / "update.json", json.dumps({**doc, "boots": boots}))
    return "probation"


def prune(base: Path, keep: int = 3) -> list[str]:
    """Remove old release directories; the versions removed.

    Kept: ``current``, ``previous`` (the rollback target), any release staged
    after the last switch (waiting for its switch between visits; a version
    rolled back from is older than that rollback and may go), and the newest
    others up to ``keep`` in total. Nothing is removed while a version is on
    probation: until its health check passes, a rollback may still need any of
    them. A directory is renamed to ``.<name>.trash`` before it is deleted, so a
    power cut half-way never leaves a half-deleted tree that looks complete.
    """
    releases = base / "releases"
    if pending(base) or not releases.is_dir():
        return []
    for trash in releases.glob(".*.trash"):
        shutil.rmtree(trash, ignore_errors=True)
    cur = base / "current"
    if not cur.is_symlink() or not complete(cur.resolve()):
        return []  # a damaged layout is for boot() and a technician, not for deleting things
    current = cur.resolve()
    prev = base / "previous"
    protected = {current} | ({prev.resolve()} if prev.is_symlink() else set())
    switched = cur.lstat().st_mtime  # the link is re-made at each switch or rollback
    found = [p for p in releases.iterdir() if not p.name.startswith(".") and p.is_dir() and complete(p)]
    protected |= {p.resolve() for p in found if (p / "RELEASE").stat().st_mtime > switched}
    others = sorted(
        (p for p in found if p.resolve() not in protected), key=lambda p: (p / "RELEASE").stat().st_mtime, reverse=True
    )
    removed = []
    for old in others[max(0, keep - len(protected)) :]:
        trash = releases / f".{old.name}.trash"
        os.replace(old, trash)
        _fsync_dir(releases)
        shutil.rmtree(trash, ignore_errors=True)
        removed.append(old.name)
    return removed


def mark_good(base: Path) -> None:
    """The health check passed: the version on probation stays."""
    write_text_atomic(base / "update.json", json.dumps({}))


def main(argv: list[str] | None = None) -> int:
    """``python -m kiosk.fleet.update boot BASE``: systemd's ExecStartPre (prints what happened)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "boot":
        print("usage: python -m kiosk.fleet.update boot BASE", file=sys.stderr)
        return 2
    base = Path(args[1])
    result = boot(base)
    print(f"kiosk release {current_version(base)}: {result}", flush=True)
    return 0 if result != "broken" else 1


if __name__ == "__main__":
    raise SystemExit(main())
