"""Software update by release directories: atomic switch, rollback, and kill -9 at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.fleet import update

ROOT = Path(__file__).resolve().parent.parent


def make_source(tmp_path: Path, version: str, files: int = 30) -> Path:
    src = tmp_path / f"src-{version}"
    (src / "kiosk").mkdir(parents=True)
    for i in range(files):
        (src / "kiosk" / f"m{i}.py").write_text(f"VERSION = {version!r}\n" + "x = 1\n" * 200, encoding="utf-8")
    return src


def test_install_switches_and_a_failing_version_rolls_back_after_three_boots(tmp_path):
    base = tmp_path / "opt"
    update.install(base, "1.0", make_source(tmp_path, "1.0"))
    assert update.boot(base) == "probation"
    update.mark_good(base)
    assert update.boot(base) == "ok" and update.current_version(base) == "1.0"
    update.install(base, "1.1", make_source(tmp_path, "1.1"))
    assert update.current_version(base) == "1.1"
    # 1.1 never passes its health check (e.g. the attract screen is never drawn).
    assert [update.boot(base) for _ in range(4)] == ["probation"] * 3 + ["rolled_back"]
    assert update.current_version(base) == "1.0" and update.boot(base) == "ok"


def test_kill_9_at_random_points_of_an_update_always_leaves_a_bootable_version(tmp_path):
    rng = random.Random(13)
    src1, src2 = make_source(tmp_path, "1.0"), make_source(tmp_path, "2.0")
    outcomes = {"1.0": 0, "2.0": 0}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_TEST_UPDATE_STEP_DELAY": "0.05"}

    def start(base: Path) -> tuple[subprocess.Popen, float]:
        proc = subprocess.Popen([sys.executable, "-c",
                                 "import sys; from pathlib import Path; from kiosk.fleet import update; "
                                 "print('go', flush=True); "
                                 "update.install(Path(sys.argv[1]), '2.0', Path(sys.argv[2]))", str(base), str(src2)],
                                env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "go\n"
        return proc, time.monotonic()

    # How long an uninterrupted install takes on this machine now (it varies with load).
    base = tmp_path / "opt-timed"
    update.install(base, "1.0", src1)
    proc, t0 = start(base)
    proc.wait()
    proc.stdout.close()
    took = time.monotonic() - t0
    for run in range(12):
        base = tmp_path / f"opt{run}"
        update.install(base, "1.0", src1)
        update.mark_good(base)
        proc, _t = start(base)
        time.sleep(rng.uniform(0.0, took * 2.0))  # wide: under load an install may take twice the timed one
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        # Power back: whatever the moment, the kiosk starts a complete release.
        result = update.boot(base)
        version = update.current_version(base)
        assert result in ("ok", "probation") and version in ("1.0", "2.0"), (run, result, version)
        files = sorted(p.name for p in (base / "current" / "kiosk").iterdir())
        assert len(files) == 30
        assert all(f"VERSION = {version!r}" in (base / "current" / "kiosk" / f).read_text() for f in files)
        outcomes[version] += 1
    assert outcomes["1.0"] and outcomes["2.0"], outcomes  # the kills landed before and after the switch
