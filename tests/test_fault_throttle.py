"""Issue 12 fault 9: the technician login throttle runs on monotonic time, per account, in a bounded
file written atomically. Real files in a temporary storage dir; real scrypt PIN checks."""

from __future__ import annotations

import json
import os

import pytest

from kiosk.flows import staff_auth as sa
from kiosk.flows.tech_mode import THROTTLE_FILE, TechMode

from test_tech_mode import PIN, add_offline, make_cfg

YEAR = 365 * 24 * 3600.0


class Clocks:
    """A wall clock a technician can set, and a monotonic clock nobody can."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0 + YEAR  # the RTC came up a year ahead
        self.mono = 5_000.0

    def tick(self, s: float) -> None:
        self.wall += s
        self.mono += s

    def mode(self, cfg) -> TechMode:
        return TechMode(cfg, clock=lambda: self.wall, mono=lambda: self.mono)


@pytest.fixture
def kiosk(tmp_path):
    """(config with one technician's offline PIN, the clocks, technician mode on them)."""
    cfg = make_cfg(tmp_path)
    add_offline(cfg)
    c = Clocks()
    tm = c.mode(cfg)
    yield cfg, c, tm
    tm.close()


def test_correcting_the_clock_by_a_year_does_not_lock_technicians_out(kiosk):
    cfg, c, tm = kiosk
    for _ in range(5):
        assert not tm.login_pin("T0012", "000111").ok
    assert "5 分钟后再试" in tm.login_pin("T0012", PIN).message_zh
    c.wall -= YEAR  # the technician corrects the clock
    tm.close()
    tm = c.mode(cfg)  # and the kiosk restarts
    assert tm.throttle_for("T0012").retry_after() <= 300
    c.tick(301)
    res = tm.login_pin("T0012", PIN)
    assert res.ok, res.message_zh
    tm.close()


def test_a_clock_set_forward_does_not_lift_a_lockout(kiosk):
    cfg, c, tm = kiosk
    for _ in range(5):
        tm.login_pin("T0012", "000111")
    c.wall += YEAR
    assert not tm.login_pin("T0012", PIN).ok
    tm.close()
    tm = c.mode(cfg)
    assert not tm.login_pin("T0012", PIN).ok  # nor does a restart after the jump
    tm.close()


def test_wrong_pins_for_one_account_do_not_lock_out_another(kiosk):
    cfg, c, tm = kiosk
    for _ in range(5):
        assert not tm.login_pin("T0099", "000111").ok  # someone at the kiosk guessing
    assert "分钟后再试" in tm.login_pin("T0099", "000111").message_zh
    res = tm.login_pin("T0012", PIN)
    assert res.ok, res.message_zh


def test_many_invented_accounts_neither_grow_the_file_nor_evict_a_lockout(kiosk):
    cfg, c, tm = kiosk
    for _ in range(5):
        tm.login_pin("T0012", "000111")
    for n in range(200):
        tm.throttles.for_account(f"X{n:04d}").record_failure()  # one guess each, as fast as scrypt allows
    tm.login_pin("X9999", "000111")  # saves the file
    assert not tm.login_pin("T0012", PIN).ok
    state = json.loads((cfg.storage_dir / THROTTLE_FILE).read_text(encoding="utf-8"))
    assert len(state["accounts"]) <= tm.throttles.max_accounts
    assert (cfg.storage_dir / THROTTLE_FILE).stat().st_size < 16_000


def test_throttle_file_is_replaced_atomically_and_private(kiosk):
    cfg, c, tm = kiosk
    tm.login_pin("T0012", "000111")
    path = cfg.storage_dir / THROTTLE_FILE
    first = os.stat(path)
    tm.login_pin("T0012", "000112")
    second = os.stat(path)
    # A new inode: written beside and renamed over, so a power cut leaves the old or the new file.
    assert first.st_ino != second.st_ino
    assert second.st_mode & 0o777 == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["accounts"]["pin:T0012"]["failure_ages"]


def test_a_hostile_file_cannot_lock_longer_than_the_cap(tmp_path):
    cfg = make_cfg(tmp_path)
    add_offline(cfg)
    cfg.storage_dir.mkdir(parents=True, exist_ok=True)
    (cfg.storage_dir / THROTTLE_FILE).write_text(json.dumps({"version": 2, "saved_at": 0, "accounts": {
        "pin:T0012": {"failure_ages": [-5] * 1000, "lockouts": 10**9, "locked_for": 1e12, "quiet_for": None},
        "pin:T0013": {"locked_for": "x"}, "../../etc": {}}}), encoding="utf-8")
    c = Clocks()
    tm = c.mode(cfg)
    assert 0 < tm.throttle_for("T0012").retry_after() <= sa.LoginThrottle.max_lockout
    assert set(tm.throttles.buckets) == {"pin:T0012"}
    c.tick(sa.LoginThrottle.max_lockout + 1)
    assert tm.login_pin("T0012", PIN).ok
    tm.close()
