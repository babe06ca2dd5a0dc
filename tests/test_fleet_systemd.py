"""kiosk.service against a real release layout: ``systemd-analyze verify --root`` with no shims.

This machine cannot start units (systemd is not PID 1 and there is no user manager:
``systemd-run --user`` finds no bus), so what systemd itself checks is checked offline here,
against a root directory holding the layout the unit expects (/opt/kiosk/releases/<v>,
current/previous links, the shared venv path) and the host's own unit library. What the unit's
command lines do is run for real by tests/test_fleet_release*.py (docs/systemd.md says which).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.fleet import update
from tests.fleet_support import release_tree

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
UNITS = ("kiosk.service", "kiosk-display.service", "kiosk-retry.service", "kiosk-retry.timer")


def image(tmp_path: Path) -> Path:
    """A root with /bin/sh, systemd's unit library, our units in /etc and /opt/kiosk with two releases."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(Path("/bin/sh").resolve(), root / "bin" / "sh")
    shutil.copytree("/lib/systemd/system", root / "lib" / "systemd" / "system", symlinks=True)
    etc = root / "etc" / "systemd" / "system"
    etc.mkdir(parents=True)
    for name in UNITS:
        shutil.copy2(ROOT / "systemd" / name, etc / name)
    base = root / "opt" / "kiosk"
    for version in ("1.0", "2.0"):
        update.install(base, version, release_tree(tmp_path, version))
        update.mark_good(base)
    (base / "venv" / "bin").mkdir(parents=True)
    (base / "venv" / "bin" / "python").symlink_to("/usr/bin/python3")
    return root


def verify(root: Path, *units: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", *units],
                          capture_output=True, text=True, timeout=60, cwd=root)


def test_kiosk_service_verifies_against_the_release_layout(tmp_path):
    root = image(tmp_path)
    res = verify(root, "kiosk.service", "kiosk-retry.timer")
    assert res.returncode == 0 and (res.stdout + res.stderr).strip() == "", res.stdout + res.stderr
    # The layout is the one the unit names: current and previous are complete releases.
    assert update.current_version(root / "opt" / "kiosk") == "2.0"
    assert (root / "opt" / "kiosk" / "previous" / "RELEASE").read_text().strip() == "1.0"


def test_the_check_sees_what_the_unit_needs(tmp_path):
    """It can fail: without /bin/sh in the image (the unit's ExecStartPre/ExecStart) verify says so."""
    root = image(tmp_path)
    (root / "bin" / "sh").unlink()
    res = verify(root, "kiosk.service")
    assert "/bin/sh is not executable" in res.stdout + res.stderr
