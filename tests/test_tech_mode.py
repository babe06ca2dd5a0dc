"""Technician mode without a window: logins (platform QR, offline PIN), audit, settings, restart."""

from __future__ import annotations

import datetime as _dt
import shutil
import tomllib

import pytest

from kiosk.core import config
from kiosk.audit import AuditLog
from kiosk.core.errors import ConfigError
from kiosk.flows import staff_auth as sa
from kiosk.flows.tech_mode import AUDIT_FILE, OFFLINE_FILE, RESTART_EXIT_CODE, TechMode, edit_toml, save_settings
from kiosk.core.idnumber import make_id
from tests.conftest import ROOT
from tests.platform_support import DEVICE, SECRET, TODAY, admin, client, sim  # noqa: F401 - sim: fixture

PIN = "482915"


def make_cfg(tmp_path, url="http://127.0.0.1:9"):
    cfg_file = tmp_path / "kiosk.toml"
    shutil.copy(ROOT / "config" / "kiosk.toml", cfg_file)
    text = cfg_file.read_text(encoding="utf-8")
    text = edit_toml(text, "storage", "dir", str(tmp_path / "var"))
    text = edit_toml(text, "platform", "url", url)
    text = edit_toml(text, "platform", "device_secret", SECRET)
    text = edit_toml(text, "site", "device_id", DEVICE)
    cfg_file.write_text(text, encoding="utf-8")
    return config.load(cfg_file, env={})


def add_offline(cfg, account="T0012", roles=("technician",), last_login=None):
    path = cfg.storage_dir / OFFLINE_FILE
    cfg.storage_dir.mkdir(parents=True, exist_ok=True)
    creds = sa.OfflineCredentials.load(path)
    creds.add(account, "王建国", make_id("141124", _dt.date(1980, 5, 6), 31), list(roles), PIN)
    if last_login:
        creds.entries[-1].last_login = last_login
    creds.save(path)


def test_offline_pin_login_audit_and_throttle(tmp_path):
    cfg = make_cfg(tmp_path)
    add_offline(cfg)
    clock = [1_000_000.0]
    tm = TechMode(cfg, clock=lambda: clock[0], mono=lambda: clock[0])
    bad = [tm.login_pin("T0012", "000111") for _ in range(5)]
    assert not any(r.ok for r in bad) and bad[0].message_zh == "账号或密码不正确，请重新输入。"
    locked = tm.login_pin("T0012", PIN)  # right PIN, but locked out after 5 failures
    assert not locked.ok and "分钟后再试" in locked.message_zh
    tm.close()
    # a restart does not reset the limit
    tm = TechMode(cfg, clock=lambda: clock[0], mono=lambda: clock[0])
    assert not tm.login_pin("T0012", PIN).ok
    clock[0] += 301
    ok = tm.login_pin("T0012", PIN)
    assert ok.ok and tm.can("edit_settings") and tm.who_zh.startswith("王**")
    tm.end_session("test")
    assert tm.session is None and not tm.can("selftest")
    tm.close()
    events = AuditLog(cfg.storage_dir / AUDIT_FILE).events()
    logins = [e for e in events if e.action == "staff.login"]
    assert [e.outcome for e in logins] == ["denied"] * 7 + ["ok"]
    assert logins[0].detail["reason"] == "bad_credentials" and logins[5].detail["reason"] == "throttled"
    assert events[-1].action == "staff.logout"
    text = (cfg.storage_dir / AUDIT_FILE).read_text(encoding="utf-8")
    assert "王建国" not in text and PIN not in text
    assert AuditLog(cfg.storage_dir / AUDIT_FILE).verify() == []


def test_operator_gets_least_privilege(tmp_path):
    cfg = make_cfg(tmp_path)
    add_offline(cfg, "C0101", roles=("operator",))
    tm = TechMode(cfg)
    assert tm.login_pin("C0101", PIN).ok
    assert tm.can("selftest") and tm.can("fault_report") and not tm.can("edit_settings") and not tm.can("view_logs")
    with pytest.raises(sa.NoPermission):
        tm.change_settings({"volume": 0.5})
    tm.close()


def test_qr_login_with_platform_down_is_audited_not_throttled(tmp_path):
    from kiosk.core.errors import PlatformError
    from tests.platform_support import free_port

    url = f"http://127.0.0.1:{free_port()}"
    cfg = make_cfg(tmp_path, url)
    tm = TechMode(cfg, platform=client(url, max_attempts=1))  # technician mode is handed the app's client
    with pytest.raises(PlatformError):
        tm.login_qr("ESSC1.x.y")
    assert tm.throttle.remaining_attempts() == 5
    tm.close()
    (ev,) = AuditLog(cfg.storage_dir / AUDIT_FILE).events()
    assert (ev.action, ev.outcome, ev.detail["reason"]) == ("staff.login", "failed", "platform_unreachable")


def test_dormant_offline_account_is_refused(tmp_path):
    cfg = make_cfg(tmp_path)
    add_offline(cfg, last_login="2020-01-01")
    tm = TechMode(cfg)
    r = tm.login_pin("T0012", PIN)
    assert not r.ok and "3个月" in r.message_zh
    tm.close()


def test_qr_login_through_platform(tmp_path, sim):
    cfg = make_cfg(tmp_path, sim.url)
    tm = TechMode(cfg, platform=client(sim.url), today=lambda: _dt.date.fromisoformat(TODAY))
    staff = {s["username"]: s for s in admin(sim.url, "GET", "/admin/staff")["staff"]}
    qr = admin(sim.url, "POST", "/admin/essc/issue", json={"username": "technician05"})["qr_text"]
    r = tm.login_qr(qr)
    assert r.ok, r.message_zh
    assert tm.session.account.account_id == "technician05" and tm.can("view_logs")
    tm.end_session()
    replay = tm.login_qr(qr)  # single use
    assert not replay.ok and "已使用过" in replay.message_zh
    locked_user = next(u for u, s in staff.items() if s["locked"])
    locked = tm.login_qr(admin(sim.url, "POST", "/admin/essc/issue", json={"username": locked_user})["qr_text"])
    assert not locked.ok and "锁定" in locked.message_zh
    resident = admin(sim.url, "GET", "/admin/residents/sample", params={"n": 1})["residents"][0]
    rq = admin(sim.url, "POST", "/admin/essc/issue", json={"id_number": resident["id_number"]})["qr_text"]
    res = tm.login_qr(rq)
    assert not res.ok and "居民的电子社保卡" in res.message_zh
    tm.close()


def test_settings_validated_and_written_atomically(tmp_path):
    cfg = make_cfg(tmp_path)
    before = (tmp_path / "kiosk.toml").read_text(encoding="utf-8")
    stored = save_settings(cfg, {"idle_timeout": 90, "volume": 0.5, "paper_width": 58})
    assert stored == {"idle_timeout": 90, "volume": 0.5, "paper_width": 58}
    # Saved in the state directory (writable under ProtectSystem=strict); the config file is untouched.
    assert (tmp_path / "kiosk.toml").read_text(encoding="utf-8") == before
    settings = cfg.storage_dir / "settings.toml"
    after = settings.read_text(encoding="utf-8")
    assert tomllib.loads(after) == {"ui": {"idle_timeout": 90, "volume": 0.5}, "devices": {"printer": {"paper_width": 58}}}
    reloaded = config.load(tmp_path / "kiosk.toml", env={})
    assert reloaded["ui"]["idle_timeout"] == 90 and reloaded["ui"]["volume"] == 0.5
    assert reloaded["devices.printer"]["paper_width"] == 58
    assert cfg["ui"]["idle_timeout"] == 90
    for bad in ({"paper_width": 76}, {"volume": 1.5}, {"idle_timeout": 5}, {"idle_timeout": "x"}, {"device_secret": "a"}):
        with pytest.raises(ConfigError) as exc:
            save_settings(cfg, bad)
        assert exc.value.message_zh
    assert settings.read_text(encoding="utf-8") == after
    assert not list(cfg.storage_dir.glob("settings.toml.*"))


def test_edit_toml_adds_missing_keys_and_sections():
    text = "[site]\nname = \"x\"  # n\n"
    out = edit_toml(edit_toml(text, "ui", "volume", 0.3), "site", "county", "临县")
    data = tomllib.loads(out)
    assert data == {"site": {"name": "x", "county": "临县"}, "ui": {"volume": 0.3}}


def test_restart_is_audited_and_ends_the_session(tmp_path):
    cfg = make_cfg(tmp_path)
    add_offline(cfg)
    tm = TechMode(cfg)
    assert tm.login_pin("T0012", PIN).ok
    assert tm.request_restart() == RESTART_EXIT_CODE
    assert tm.session is None
    tm.close()
    actions = [e.action for e in AuditLog(cfg.storage_dir / AUDIT_FILE).events()]
    assert actions[-2:] == ["app.restart", "staff.logout"]


def test_idle_timeout_change_meets_the_one_idle_rule(tmp_path):
    """The settings screen's idle timeout is checked by kiosk.core.settings.check, the rule every reader uses."""
    cfg = make_cfg(tmp_path)
    cfg["ui"]["idle_warning"] = 30  # a longer countdown than the shipped 10 s
    with pytest.raises(ConfigError) as exc:
        save_settings(cfg, {"idle_timeout": 30})
    assert exc.value.message_zh == "倒计时提示（30 秒）必须短于无操作自动退出时间（30 秒）。"
    assert not (cfg.storage_dir / "settings.toml").exists() and cfg["ui"]["idle_timeout"] == 60
    assert save_settings(cfg, {"idle_timeout": 40}) == {"idle_timeout": 40}


def test_without_a_platform_client_qr_login_says_use_the_pin(tmp_path):
    """Technician mode builds no HTTP client of its own: with none handed in, QR login points to the PIN."""
    from kiosk.core.errors import PlatformError

    cfg = make_cfg(tmp_path)
    tm = TechMode(cfg)
    with pytest.raises(PlatformError) as exc:
        tm.login_qr("ESSC1.x.y")
    assert "离线密码" in exc.value.message_zh
    assert tm.throttle.remaining_attempts() == 5
    tm.close()
    (ev,) = AuditLog(cfg.storage_dir / AUDIT_FILE).events()
    assert (ev.action, ev.outcome, ev.detail["reason"]) == ("staff.login", "failed", "platform_unreachable")


def test_selftest_is_the_one_handed_in_and_goes_on_record(tmp_path):
    from kiosk.core.errors import KioskError
    from kiosk.selftest import run_selftest

    cfg = make_cfg(tmp_path)
    add_offline(cfg)
    seen = []
    tm = TechMode(cfg, selftest=lambda test_page, on_result: run_selftest(cfg, only=["disk", "clock"],
                                                                          on_result=on_result))
    with pytest.raises(sa.NoPermission):
        tm.run_selftest()
    assert tm.login_pin("T0012", PIN).ok
    results = tm.run_selftest(on_result=seen.append)
    assert [r.name for r in results] == ["disk", "clock"] == [r.name for r in seen]
    assert tm.last_selftest == results
    tm.close()
    run = [e for e in AuditLog(cfg.storage_dir / AUDIT_FILE).events() if e.action == "selftest.run"]
    assert len(run) == 1 and run[0].detail["failed"] == []
    bare = TechMode(cfg)  # none handed in: a message, not a self-test built behind the screen's back
    assert bare.login_pin("T0012", PIN).ok
    with pytest.raises(KioskError) as exc:
        bare.run_selftest()
    assert exc.value.message_zh == "本机无法运行自检，请反映系统问题。"
    bare.close()
