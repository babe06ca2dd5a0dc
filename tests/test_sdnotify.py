"""sd_notify and the Watchdog gate against a real AF_UNIX datagram socket."""

from __future__ import annotations

import threading
import time

import pytest

from kiosk import sdnotify
from kiosk.watchdog import Watchdog
from tests.notify_listener import NotifyListener


@pytest.fixture(params=[False, True], ids=["path", "abstract"])
def listener(request):
    lst = NotifyListener(abstract=request.param)
    yield lst
    lst.close()


def test_messages_arrive_on_path_and_abstract_sockets(listener):
    n = sdnotify.Notifier(listener.address)
    assert n.enabled
    assert n.ready("attract screen")
    assert n.status("outbox 2 queued\nprinter ok")  # newline must not split fields
    assert n.watchdog()
    assert n.stopping()
    got = [listener.receive(2).fields for _ in range(4)]
    assert got[0] == {"READY": "1", "STATUS": "attract screen"}
    assert got[1] == {"STATUS": "outbox 2 queued printer ok"}
    assert got[2] == {"WATCHDOG": "1"}
    assert got[3] == {"STOPPING": "1"}
    n.close()


def test_env_socket_is_used(listener, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", listener.address)
    n = sdnotify.Notifier()
    assert n.status("hello 你好")
    assert listener.receive(2).fields == {"STATUS": "hello 你好"}


def test_unset_socket_is_a_silent_noop(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = sdnotify.Notifier()
    assert not n.enabled
    assert n.ready() is False and n.watchdog() is False


def test_missing_socket_does_not_raise():
    n = sdnotify.Notifier("/tmp/no-such-dir-kiosk/notify")
    assert n.watchdog() is False  # logged once, never raised into the app


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "junk"}, None),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # someone else's
    ],
)
def test_watchdog_interval(env, expected):
    assert sdnotify.watchdog_interval(env) == expected


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_health_rules_with_injected_clock(listener):
    clock = FakeClock()
    wd = Watchdog(sdnotify.Notifier(listener.address), interval=8, clock=clock)
    assert (wd.ping_every, wd.stale_after) == (2.0, 4.0)
    assert wd.check_once().ok
    assert listener.receive(2).fields == {"WATCHDOG": "1"}

    clock.now += 5  # no tick for longer than stale_after: UI blocked
    h = wd.check_once()
    assert not h.ok and "UI loop not responding for 5 s" in h.problem
    msg = listener.receive(2).fields
    assert msg["STATUS"].startswith("NOT RESPONDING: UI loop not responding")

    wd.tick()
    with wd.deadline("printer.print", seconds=3):
        clock.now += 2
        assert wd.check_once().ok  # within its deadline
        clock.now += 2
        wd.tick()
        h = wd.check_once()
        assert not h.ok
        assert [(s.name, s.overdue) for s in h.stuck] == [("printer.print", 1.0)]
    wd.tick()
    assert wd.check_once().ok  # call returned: healthy again


def test_status_line_parts(listener):
    wd = Watchdog(sdnotify.Notifier(listener.address), interval=8)
    wd.set_status("screen", "attract screen")
    wd.set_status("outbox", "outbox 0 queued")
    wd.set_status("printer", "printer ok")
    wd.set_status("screen", "service menu")  # keeps its place
    wd.set_status("outbox", None)
    wd.flush_status()
    assert listener.receive(2).fields == {"STATUS": "service menu; printer ok"}
    wd.flush_status()  # unchanged: nothing sent
    assert listener.receive(0.2) is None


def test_stuck_device_call_stops_pings_from_thread(listener):
    """A real thread stuck in a device call past its deadline stops WATCHDOG=1."""
    wd = Watchdog(sdnotify.Notifier(listener.address), interval=0.8)  # ping every 0.2 s
    stop_ticking = threading.Event()

    def ui_loop():
        while not stop_ticking.is_set():
            wd.tick()
            time.sleep(0.05)

    release = threading.Event()

    def stuck_print():
        with wd.deadline("printer.print", seconds=0.3):
            release.wait(20)

    ui = threading.Thread(target=ui_loop, daemon=True)
    ui.start()
    try:
        wd.ready()
        assert listener.wait_for(lambda f: f.get("READY") == "1", 5)
        assert listener.wait_for(lambda f: f.get("WATCHDOG") == "1", 5)
        worker = threading.Thread(target=stuck_print, daemon=True)
        worker.start()
        assert listener.wait_for(lambda f: "printer.print stuck" in f.get("STATUS", ""), 10)
        quiet = listener.collect(1.0)  # five ping periods
        assert not [m for m in quiet if "WATCHDOG" in m.fields]
        release.set()
        worker.join(5)
        assert listener.wait_for(lambda f: f.get("WATCHDOG") == "1", 5)
    finally:
        release.set()
        stop_ticking.set()
        ui.join(5)
        wd.close()
    assert listener.wait_for(lambda f: f.get("STOPPING") == "1", 5)


def test_modules_stay_kivy_free():
    import subprocess
    import sys

    code = ("import sys, kiosk.sdnotify, kiosk.watchdog, kiosk.audit, kiosk.flows.staff_auth; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'kivy'); "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
