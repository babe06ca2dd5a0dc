"""Pruning old release directories (real files): current, the rollback target, staged releases and
the newest up to N stay; nothing goes while a version is on probation; a cut delete is finished later."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.fleet import update
from kiosk.fleet.probation import Probation, Signals

GOOD = Signals(attract_drawn=True, devices_up=True, platform_reachable=True, up_for=10.0)


def tree(tmp_path: Path, version: str) -> Path:
    src = tmp_path / f"src-{version}"
    (src / "kiosk").mkdir(parents=True)
    (src / "kiosk" / "__main__.py").write_text(f"print('{version}')\n", encoding="utf-8")
    return src


def installed(base: Path) -> list[str]:
    return sorted(p.name for p in (base / "releases").iterdir())


def release(tmp_path: Path, base: Path, version: str, *, keep: bool = True) -> None:
    time.sleep(0.01)  # distinct RELEASE mtimes (age order)
    update.install(base, version, tree(tmp_path, version))
    if keep:
        assert update.boot(base) == "probation"
        assert Probation(base, 300, lambda *a, **k: None, keep=3).check(GOOD)  # health check passes


def test_old_releases_are_pruned_to_n_keeping_current_and_the_rollback_target(tmp_path):
    base = tmp_path / "opt"
    for v in ("1", "2", "3"):
        release(tmp_path, base, v)
    assert installed(base) == ["1", "2", "3"]
    release(tmp_path, base, "4")
    assert installed(base) == ["2", "3", "4"]  # the oldest went; 4 current, 3 previous, 2 the newest other
    release(tmp_path, base, "5")
    assert installed(base) == ["3", "4", "5"]
    assert update.current_version(base) == "5"
    assert (base / "previous").resolve().name == "4"

    # On probation: nothing is removed, whatever N says.
    release(tmp_path, base, "6", keep=False)
    assert update.pending(base) == "6"
    assert update.prune(base, keep=2) == []
    assert installed(base) == ["3", "4", "5", "6"]
    # Its health check fails for good: boot() rolls back to 5, and 5's start prunes nothing it needs.
    for _ in range(update.MAX_BOOTS + 1):
        update.boot(base)
    assert update.current_version(base) == "5" and update.pending(base) is None
    # A release staged for the next switch (between visits) is newer than current: it stays too.
    time.sleep(0.01)
    update.prepare(base, "7", tree(tmp_path, "7"))
    assert update.prune(base, keep=2) == ["6", "4", "3"]  # 6 failed its health check: no reason to keep it
    assert installed(base) == ["5", "7"]
    update.switch(base, "7")  # the staged one still switches: it was not pruned
    assert update.boot(base) == "probation"


def test_prune_with_n_from_the_probation_and_a_cut_delete_is_finished(tmp_path):
    base = tmp_path / "opt"
    for v in ("1", "2", "3", "4"):
        release(tmp_path, base, v)
    # A power cut while deleting: the directory was renamed aside (never looks complete) but not removed.
    (base / "releases" / "2").rename(base / "releases" / ".2.trash")
    assert update.current_version(base) == "4" and update.boot(base) == "ok"
    time.sleep(0.01)
    update.install(base, "5", tree(tmp_path, "5"))
    update.boot(base)
    assert Probation(base, 300, lambda *a, **k: None, keep=2).check(GOOD)
    assert installed(base) == ["4", "5"]  # N = 2: current and previous; the trash is gone too
