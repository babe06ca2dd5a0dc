"""Technician login rules: roles (seed 004), dormancy, PIN hashes, throttling."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, strategies as st

from kiosk.audit import AuditLog
from kiosk.flows import staff_auth as sa
from kiosk.core.idnumber import make_id
from kiosk.flows.staff_auth import Feature, Role

TODAY = dt.date(2026, 11, 25)
ID = make_id("140123", dt.date(1985, 4, 2), 37)


def account(roles, *, name="王建国", id_number=ID, last_login=dt.date(2026, 10, 1), locked=False):
    return sa.StaffAccount("T0012", name, id_number, frozenset(roles), last_login, locked)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- roles -------------------------------------------------------------------------------
def test_least_privilege_matrix():
    p = sa.permissions_for
    assert p([Role.TECHNICIAN]) == frozenset(Feature)
    assert p([Role.OPERATOR]) == {Feature.SELFTEST, Feature.VIEW_STATUS, Feature.VIEW_RECEIPTS,
                                  Feature.RESTART_APP, Feature.FAULT_REPORT}
    # Operators never see logs or change settings.
    assert Feature.VIEW_LOGS not in p([Role.OPERATOR]) and Feature.EDIT_SETTINGS not in p([Role.OPERATOR])
    # Admins have no business-data access (seed 004: no 业务经办 rights).
    assert Feature.VIEW_RECEIPTS not in p([Role.SYSTEM_ADMIN]) | p([Role.BUSINESS_ADMIN])
    assert p([Role.BUSINESS_ADMIN]) == {Feature.SELFTEST, Feature.VIEW_STATUS, Feature.FAULT_REPORT}
    assert p([]) == frozenset()


def test_role_names_from_the_platform():
    assert sa.parse_roles(["业务操作员", "TECHNICIAN", "系统管理员", "村长"]) == {
        Role.OPERATOR, Role.TECHNICIAN, Role.SYSTEM_ADMIN}


def test_session_grants_and_refuses_features():
    s = sa.start_session(account([Role.OPERATOR]), TODAY, now=0.0)
    assert s.can(Feature.RESTART_APP)
    s.require(Feature.FAULT_REPORT)
    with pytest.raises(sa.NoPermission) as e:
        s.require(Feature.EDIT_SETTINGS)
    assert e.value.message_zh == "您的账号没有“修改设置”权限。"


@pytest.mark.parametrize("acc, error", [
    (account([Role.TECHNICIAN], locked=True), sa.AccountLocked),
    (account([Role.TECHNICIAN], last_login=dt.date(2026, 8, 24)), sa.AccountDormant),
    (account([Role.TECHNICIAN], name="公用账号"), sa.AccountNotRealName),
    (account([Role.TECHNICIAN], name="admin"), sa.AccountNotRealName),
    (account([Role.TECHNICIAN], name=""), sa.AccountNotRealName),
    (account([Role.TECHNICIAN], id_number=ID[:-1] + ("0" if ID[-1] != "0" else "1")), sa.AccountNotRealName),
    (account([Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN]), sa.RoleConflict),
    (account([]), sa.NoPermission),
])
def test_account_rules_refuse(acc, error):
    with pytest.raises(error) as e:
        sa.start_session(acc, TODAY, now=0.0)
    assert e.value.message_zh  # something the screen can show
    assert ID not in str(e.value) and "王建国" not in str(e.value)  # log line leaks nothing


def test_dormancy_is_three_calendar_months():
    assert not sa.is_dormant(dt.date(2026, 8, 25), TODAY)   # exactly 3 months: still fine
    assert sa.is_dormant(dt.date(2026, 8, 24), TODAY)
    assert sa.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert sa.add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    assert not sa.is_dormant(None, TODAY)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 1, 1)), st.integers(0, 40))
def test_add_months_lands_in_the_right_month(day, months):
    later = sa.add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day


def test_repr_hides_personal_data():
    text = repr(account([Role.TECHNICIAN]))
    assert ID not in text and "王建国" not in text and "王**" in text


# --- PIN hashes --------------------------------------------------------------------------
def test_scrypt_and_pbkdf2_hashes_verify():
    h = sa.hash_pin("482913")
    assert h.startswith("scrypt$") and "482913" not in h
    assert sa.verify_pin("482913", h) and not sa.verify_pin("482914", h)
    assert h != sa.hash_pin("482913")  # salted
    p = sa.hash_pin_pbkdf2("482913", iterations=1000)
    assert sa.verify_pin("482913", p) and not sa.verify_pin("000000", p)
    for broken in ("", "md5$x$y", "scrypt$16384$8", "scrypt$a$b$c$d$e", p.replace("$1000$", "$zz$")):
        assert sa.verify_pin("482913", broken) is False


@pytest.mark.parametrize("pin, ok", [
    ("482913", True), ("12345", False), ("1234567890123", False), ("48a913", False),
    ("111111", False), ("123456", False), ("987654", False), ("135791", True),
])
def test_pin_strength(pin, ok):
    assert (sa.pin_problem(pin) is None) is ok


# --- offline credential file ------------------------------------------------------------
def test_offline_pin_login_round_trip(tmp_path):
    path = tmp_path / "staff_pins.json"
    creds = sa.OfflineCredentials()
    creds.add("T0012", "王建国", ID, ["技术员"], "482913", today=dt.date(2026, 11, 1))
    creds.save(path)
    stored = path.read_text(encoding="utf-8")
    assert "482913" not in stored and "scrypt$" in stored
    assert (path.stat().st_mode & 0o777) == 0o600

    creds = sa.OfflineCredentials.load(path)
    acc = creds.verify("T0012", "482913", TODAY)
    assert acc.roles == {Role.TECHNICIAN} and acc.source == "offline"
    assert acc.last_login == dt.date(2026, 11, 1)  # the rules judge the previous login
    assert creds.entries[0].last_login == TODAY.isoformat()
    with pytest.raises(sa.BadCredentials):
        creds.verify("T0012", "482914", TODAY)
    with pytest.raises(sa.BadCredentials) as unknown:
        creds.verify("T9999", "482913", TODAY)
    assert unknown.value.message_zh == "账号或密码不正确，请重新输入。"  # same text: no account probing


def test_one_time_code_works_once_and_expires(tmp_path):
    creds = sa.OfflineCredentials()
    creds.add("T0012", "王建国", ID, ["operator"], "730518", one_time=True,
              expires=dt.date(2026, 12, 31), today=TODAY)
    creds.verify("T0012", "730518", TODAY)
    with pytest.raises(sa.BadCredentials, match="already used"):
        creds.verify("T0012", "730518", TODAY)

    creds.add("T0012", "王建国", ID, ["operator"], "730518", expires=dt.date(2026, 12, 31), today=TODAY)
    with pytest.raises(sa.BadCredentials, match="expired"):
        creds.verify("T0012", "730518", dt.date(2027, 1, 1))


def test_offline_file_refuses_shared_accounts_and_weak_pins():
    creds = sa.OfflineCredentials()
    with pytest.raises(sa.AccountNotRealName):
        creds.add("TECH", "技术员", ID, ["technician"], "482913", today=TODAY)
    with pytest.raises(sa.StaffAuthError, match="digits"):
        creds.add("T0012", "王建国", ID, ["technician"], "1234", today=TODAY)
    assert creds.entries == []


def test_corrupt_offline_file_is_a_typed_error(tmp_path):
    path = tmp_path / "staff_pins.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(sa.StaffAuthError) as e:
        sa.OfflineCredentials.load(path)
    assert "离线登录数据损坏" in e.value.message_zh
    assert sa.OfflineCredentials.load(tmp_path / "missing.json").entries == []


# --- throttling ------------------------------------------------------------------------------
def test_five_failures_in_ten_minutes_lock_with_exponential_backoff():
    clock = Clock()
    t = sa.LoginThrottle(clock=clock)
    for _ in range(4):
        assert t.record_failure() == 0
        clock.now += 60
    assert t.remaining_attempts() == 1
    assert t.record_failure() == 300  # fifth failure within 10 min
    with pytest.raises(sa.TooManyAttempts) as e:
        t.check()
    assert e.value.message_zh == "登录失败次数过多，请 5 分钟后再试。"
    clock.now += 300
    t.check()
    for _ in range(4):
        t.record_failure()
    assert t.record_failure() == 600  # doubled
    clock.now += 600
    for _ in range(5):
        t.record_failure()
    assert t.retry_after() == 1200
    t.record_success()
    t.check()
    assert t.remaining_attempts() == 5 and t.lockouts == 0


def test_failures_spread_beyond_the_window_do_not_lock():
    clock = Clock()
    t = sa.LoginThrottle(clock=clock)
    for _ in range(20):
        assert t.record_failure() == 0
        clock.now += 151  # any 5 consecutive failures span > 10 minutes
    t.check()


def test_backoff_is_capped_and_forgotten_after_a_quiet_day():
    clock = Clock()
    t = sa.LoginThrottle(clock=clock)
    for _ in range(10):
        for _ in range(5):
            t.record_failure()
        clock.now += t.retry_after()
    assert t.lockouts == 10
    for _ in range(5):
        t.record_failure()
    assert t.retry_after() == t.max_lockout
    clock.now += t.max_lockout + 25 * 3600
    for _ in range(5):
        t.record_failure()
    assert t.retry_after() == t.base_lockout


def test_throttle_state_survives_a_restart():
    clock = Clock()
    t = sa.LoginThrottle(clock=clock)
    for _ in range(5):
        t.record_failure()
    state = json.loads(json.dumps(t.to_dict()))
    t2 = sa.LoginThrottle(clock=clock)
    t2.restore(state)
    with pytest.raises(sa.TooManyAttempts):
        t2.check()


# --- one attempt end to end, audited -----------------------------------------------------------
def test_login_attempts_are_throttled_and_audited(tmp_path):
    clock = Clock()
    throttle = sa.LoginThrottle(clock=clock)
    creds = sa.OfflineCredentials()
    creds.add("T0012", "王建国", ID, ["technician"], "482913", today=dt.date(2026, 11, 1))
    audit = AuditLog(tmp_path / "audit.jsonl", clock=clock)

    def attempt(pin):
        res = sa.login(throttle, lambda: creds.verify("T0012", pin, TODAY), method="offline_pin",
                       account_id="T0012", today=TODAY, now=clock.now)
        audit.append("staff.login", **res.audit_fields())
        return res

    for _ in range(5):
        assert not attempt("000001").ok
    blocked = attempt("482913")  # right PIN, but locked out
    assert not blocked.ok and isinstance(blocked.error, sa.TooManyAttempts)
    clock.now += 301
    ok = attempt("482913")
    assert ok.ok and ok.session.can(Feature.EDIT_SETTINGS)
    assert ok.message_zh == "登录成功。"

    events = audit.events()
    assert [e.detail["reason"] for e in events] == ["bad_credentials"] * 5 + ["throttled", None]
    assert [e.outcome for e in events][-1] == "ok"
    assert events[-1].actor == "staff:T0012 王**"
    assert "edit_settings" in events[-1].detail["permissions"]
    raw = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert ID not in raw and "王建国" not in raw and "482913" not in raw
    assert audit.verify() == []
