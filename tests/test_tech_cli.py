"""``kiosk tech add-staff``: the documented way to create an offline PIN (issue 17 point 12)."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys

from kiosk.core import clock
from kiosk.core.idnumber import make_id
from kiosk.flows import staff_auth as sa
from tests.conftest import ROOT

ID = make_id("141124", _dt.date(1980, 5, 6), 31)


def _kiosk(tmp_path, *args, stdin: str = ""):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "var"}"\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "--config", str(cfg), "tech", *args], cwd=ROOT,
                          env=env, input=stdin, capture_output=True, text=True, timeout=60)


def test_add_staff_creates_a_pin_the_kiosk_accepts(tmp_path):
    proc = _kiosk(tmp_path, "add-staff", "T0012", "--name", "王建国", "--id-number", ID, "--role", "technician",
                  "--pin-stdin", stdin="482915\n")
    assert proc.returncode == 0, proc.stderr
    assert "T0012" in proc.stdout and ID not in proc.stdout and "王建国" not in proc.stdout
    creds = sa.OfflineCredentials.load(tmp_path / "var" / "staff_offline.json")
    account = creds.verify("T0012", "482915", clock.today())
    assert account.name == "王建国" and sa.Role.TECHNICIAN in account.roles
    assert "482915" not in (tmp_path / "var" / "staff_offline.json").read_text(encoding="utf-8")
    listed = _kiosk(tmp_path, "list-staff")
    assert listed.returncode == 0 and "T0012" in listed.stdout and ID not in listed.stdout


def test_weak_pin_and_unknown_role_are_refused(tmp_path):
    weak = _kiosk(tmp_path, "add-staff", "T1", "--name", "李四", "--id-number", ID, "--role", "technician",
                  "--pin-stdin", stdin="123456\n")
    assert weak.returncode == 1 and "PIN" in weak.stderr
    role = _kiosk(tmp_path, "add-staff", "T1", "--name", "李四", "--id-number", ID, "--role", "janitor",
                  "--pin-stdin", stdin="482915\n")
    assert role.returncode == 1 and "role" in role.stderr
    assert not (tmp_path / "var" / "staff_offline.json").exists()
