"""Session lifetime and the idle timer, without a window."""

from __future__ import annotations

from kiosk.demo_devices import synthetic_people
from kiosk.flows.session import IdleTimer, SessionManager


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_logout_wipes_everything():
    sm = SessionManager()
    events = []
    sm.when_login = lambda p: events.append(("in", p.masked_id))
    sm.when_logout = lambda reason: events.append(("out", reason))
    person = synthetic_people()[0]
    sm.login(person)
    sm.current.results.append({"receipt": "x"})
    sm.current.flow_state["phone"] = "13800138000"
    old = sm.current
    sm.logout("idle timeout")
    assert not sm.current.holds_personal_data()
    assert old.results == [] and old.flow_state == {}
    assert events == [("in", person.masked_id), ("out", "idle timeout")]


def test_second_credential_of_same_person_keeps_session_other_person_replaces_it():
    sm = SessionManager()
    a, b = synthetic_people()[:2]
    sm.login(a)
    sm.current.results.append({"r": 1})
    from dataclasses import replace

    sm.login(replace(a, source="sscard"))
    assert sm.current.results == [{"r": 1}]
    sm.login(b)
    assert sm.current.person is b and sm.current.results == []


def test_idle_timer_phases():
    clock = FakeClock()
    t = IdleTimer(60, 10, clock)
    assert t.state == "active"
    clock.t += 49
    assert t.state == "active"
    clock.t += 2
    assert t.state == "warning" and 8.9 < t.remaining() < 9.1
    t.touch()
    assert t.state == "active"
    clock.t += 61
    assert t.state == "expired"


def test_person_repr_never_leaks():
    p = synthetic_people()[0]
    assert p.id_number not in repr(p) and p.name not in repr(p)

def test_other_person_is_asked_about_not_switched_silently():
    sm = SessionManager()
    a, b = synthetic_people()[:2]
    asked = []
    sm.when_other_person = asked.append
    sm.login(a)
    sm.current.flow_state["phone"] = "13800138000"
    sm.login(b)
    # The visit and its half-filled form are untouched until the resident decides.
    assert asked == [b] and sm.current.person is a and sm.current.flow_state == {"phone": "13800138000"}
    sm.switch_to(b)
    assert sm.current.person is b and sm.current.flow_state == {}


def test_age_from_birth_date_or_id_number():
    import datetime as dt
    from dataclasses import replace

    p = synthetic_people()[0]
    born = p.birth_date
    assert p.age_on(dt.date(born.year + 60, born.month, born.day)) == 60
    assert p.age_on(dt.date(born.year + 60, born.month, born.day) - dt.timedelta(days=1)) == 59
    assert replace(p, birth_date=None).age_on(dt.date(born.year + 60, born.month, born.day)) == 60
    assert replace(p, birth_date=None, id_number="bad").age_on(dt.date(2026, 1, 1)) is None
