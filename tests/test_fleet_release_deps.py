"""A release that needs a new Python package: its wheelhouse is installed offline into the release's
own venv before the switch, and the unit's ExecStart runs it; a missing wheel refuses the release
with nothing switched. Real Mosquitto, real HTTPS, real pip (``--no-index``), a wheel made here."""

from __future__ import annotations

import base64
import configparser
import hashlib
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kiosk.fleet import release, topics, update
from tests.fleet_support import Listener, archive, release_tree
from tests.test_fleet import broker  # noqa: F401 - fixture
from tests.test_fleet_release import COUNTY, DEV, command, kiosk, wait_event  # noqa: F401 - kiosk is a fixture

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def make_wheel(directory: Path, name: str, version: str, value: str) -> Path:
    """A pure-Python wheel written by hand (a wheel is a zip with dist-info; no build tools, no network)."""
    files = {f"{name}/__init__.py": f"VALUE = {value!r}\n".encode(),
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{name}-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                   b"Tag: py3-none-any\n"}
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},"
                     f"{len(d)}\n" for p, d in files.items()) + f"{name}-{version}.dist-info/RECORD,,\n"
    files[f"{name}-{version}.dist-info/RECORD"] = record.encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return path


def tree_with_deps(tmp_path: Path, version: str, requirements: str) -> Path:
    tree = release_tree(tmp_path, version)
    (tree / "requirements.txt").write_text(requirements, encoding="utf-8")
    make_wheel(tree / "wheels", "kiosk_tinydep", "1.0", f"tinydep for {version}")
    # What the new code does with its new package (stands in for `-m kiosk run`).
    (tree / "probe_deps.py").write_text(
        "import sys, httpx, kiosk_tinydep\nprint(kiosk_tinydep.VALUE, '|', sys.prefix, '|', httpx.__name__)\n",
        encoding="utf-8")
    return tree


def exec_start(base: Path, module: str) -> str:
    """systemd/kiosk.service's ExecStart in ``base/current``, the app module swapped for ``module``."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "systemd" / "kiosk.service")
    line = unit["Service"]["ExecStart"].replace("-m kiosk run", f"-m {module}")
    line = line.replace("/opt/kiosk/venv/bin/python", sys.executable).replace("/opt/kiosk", str(base))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(shlex.split(line), cwd=base / "current", env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_release_with_a_new_package_gets_its_own_venv_offline_and_runs_on_it(broker, kiosk, tmp_path):
    base = kiosk["base"]
    data = archive(tree_with_deps(tmp_path, "2.0", "kiosk_tinydep==1.0\nhttpx\n"))
    (kiosk["www"] / "kiosk-2.0.tar.gz").write_bytes(data)
    kiosk["start"]()
    events = Listener(broker.port, topics.topic(COUNTY, DEV, topics.EVENT))
    try:
        manifest = release.make_manifest(kiosk["key"], "2.0", kiosk["url"] + "/kiosk-2.0.tar.gz", data)
        ack, seen = command(broker, kiosk["key"], manifest)
        assert ack["status"] == "ok", ack
        stages = [a.get("stage") for a in seen if a.get("status") == "progress"]
        assert stages[-3:] == ["verified", "dependencies", "staged"], seen
        wait_event(events, "switched")
    finally:
        events.close()
    assert update.current_version(base) == "2.0"
    venv = base / "releases" / "2.0" / "venv"
    # The new package is in the release's venv, httpx (already shared) was not installed again.
    site = next(venv.glob("lib/python*/site-packages"))
    assert (site / "kiosk_tinydep" / "__init__.py").is_file() and not (site / "httpx").exists()
    value, prefix, shared = (x.strip() for x in exec_start(base, "probe_deps").split("|"))
    assert value == "tinydep for 2.0" and Path(prefix) == venv and shared == "httpx"
    # The previous release (no requirements.txt) still starts on the shared interpreter.
    (base / "releases" / "1.0" / "probe_shared.py").write_text("import sys; print(sys.prefix)\n", encoding="utf-8")
    update.rollback(base)
    assert Path(exec_start(base, "probe_shared")) == Path(sys.prefix)


def test_a_missing_wheel_refuses_the_release_and_nothing_switches(broker, kiosk, tmp_path):
    base = kiosk["base"]
    data = archive(tree_with_deps(tmp_path, "3.0", "kiosk_tinydep==1.0\nkiosk_not_in_the_wheelhouse>=1\n"))
    (kiosk["www"] / "kiosk-3.0.tar.gz").write_bytes(data)
    kiosk["start"]()
    manifest = release.make_manifest(kiosk["key"], "3.0", kiosk["url"] + "/kiosk-3.0.tar.gz", data)
    ack, _seen = command(broker, kiosk["key"], manifest)
    assert ack["status"] == "failed" and ack["reason"] == "dependencies_failed", ack
    assert "kiosk_not_in_the_wheelhouse" in ack["detail"]
    assert update.current_version(base) == "1.0" and update.pending(base) is None
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["1.0"]  # no staging, no venv left
