"""Fault 1: background threads survive any exception; a dead or stuck one stops the watchdog's pings.

Real parts: a real small filesystem (tmpfs) that really runs full, the platform
simulator over HTTP on loopback, the ID-card reader on a real pty, and a real
``$NOTIFY_SOCKET`` datagram socket playing systemd.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import threading
import time

import pytest

from kiosk import sdnotify
from kiosk.core.supervised import Liveness, run_loop, start_loop
from kiosk.hardware.idcard_reader import IdCardReader
from kiosk.hardware.idcard_sim import IdCardSimulator
from kiosk.platform.outbox import Outbox
from kiosk.watchdog import Watchdog
from tests.notify_listener import NotifyListener
from tests.platform_support import client, sample, start, submissions


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs: a disk that really runs full (needs CAP_SYS_ADMIN)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(directory) -> str:
    """Write a filler file until the filesystem says ENOSPC; returns its path."""
    path = os.path.join(directory, "filler")
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return path


@pytest.fixture
def listener():
    lst = NotifyListener()
    yield lst
    lst.close()


def test_disk_full_then_freed_delivers_without_restart(small_disk, caplog):
    sim = start()
    platform = client(sim.url, max_attempts=1)
    box = Outbox(small_disk / "outbox.json", platform, autostart=False, backoff_base=0.05, backoff_cap=0.2)
    try:
        person = sample(sim.url, 1, qualifies=1)[0]
        ref = box.enqueue(1, person["id_number"], {"desired_job": "司机"}).ref
        filler = fill(small_disk)
        caplog.set_level(logging.DEBUG, logger="kiosk.outbox")
        box.start()
        # The platform accepts, but the kiosk cannot record it: the record stays pending.
        time.sleep(1.5)
        assert box.get(ref).state == "pending"
        box.kick()  # what the heartbeat does: must not raise on a full disk
        time.sleep(0.5)
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR and "outbox-sender failed" in r.getMessage()]
        retries = [r for r in caplog.records if "failed again" in r.getMessage()]
        assert len(failures) == 1 and "No space left on device" in failures[0].getMessage()
        assert retries, "the sender must keep retrying while the disk is full"
        os.unlink(filler)  # a technician frees space; nobody restarts anything
        assert box.drain(15)
        outcome = box.get(ref)
        assert outcome.state == "delivered"
        stored = submissions(sim.url)
        assert len(stored) == 1  # retried with the same key: recorded once
        assert outcome.acceptance.acceptance_no == stored[0]["acceptance_no"]
        assert any("recovered" in r.getMessage() for r in caplog.records)
    finally:
        box.close()
        platform.close()
        sim.stop()


def test_hung_card_reader_thread_stops_watchdog_pings(listener):
    """A card-read handler that never returns hangs the reader thread: pings must stop."""
    wd = Watchdog(sdnotify.Notifier(listener.address), interval=0.8)  # ping every 0.2 s
    card_sim = IdCardSimulator().start()
    reader = IdCardReader(card_sim.port, poll_interval=0.05, max_silence=0.6)
    release = threading.Event()
    reader.when_card_read = lambda _rec: release.wait(30)  # e.g. a deadlocked handler
    stop_ticking = threading.Event()

    def ui_loop():
        while not stop_ticking.is_set():
            wd.tick()
            time.sleep(0.05)

    ui = threading.Thread(target=ui_loop, daemon=True)
    ui.start()
    try:
        reader.start()
        wd.ready()
        assert listener.wait_for(lambda f: f.get("WATCHDOG") == "1", 5)
        card_sim.insert(0)
        msg = listener.wait_for(lambda f: "idcard-reader silent" in f.get("STATUS", ""), 10)
        assert msg is not None, [m.fields for m in listener.messages]
        quiet = listener.collect(1.0)
        assert not [m for m in quiet if "WATCHDOG" in m.fields]
        release.set()  # the handler returns: the loop beats again and pings resume
        assert listener.wait_for(lambda f: f.get("WATCHDOG") == "1", 5)
    finally:
        release.set()
        stop_ticking.set()
        ui.join(5)
        reader.close()
        card_sim.close()
        wd.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_loop_survives_any_exception_logs_once_and_dead_thread_is_seen(caplog):
    registry = Liveness()
    stop = threading.Event()
    calls = []

    def step():
        calls.append(time.monotonic())
        if len(calls) < 6:
            raise OSError(errno.EIO, "Input/output error")
        if len(calls) == 6:
            raise KeyError("a programming error")
        if len(calls) == 8:
            raise SystemExit("the thread really ends")  # not an Exception: nothing can catch it
        return 0.01

    caplog.set_level(logging.DEBUG, logger="kiosk.core.supervised")
    t = start_loop("test-loop", step, stop, backoff_base=0.01, backoff_cap=0.02, registry=registry)
    t.join(5)
    assert not t.is_alive() and len(calls) == 8
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum("Input/output error" in e for e in errors) == 1  # five EIOs, logged once
    assert sum("a programming error" in e for e in errors) == 1
    assert any("recovered after" in r.getMessage() for r in caplog.records)
    silent = registry.silent()
    assert [s.name for s in silent] == ["test-loop"] and silent[0].dead
    wd = Watchdog(sdnotify.Notifier(None), interval=8, liveness=registry)
    assert not wd.health().ok and "test-loop thread died" in wd.health().problem


def test_stopped_loop_leaves_registry():
    registry = Liveness()
    stop = threading.Event()
    t = threading.Thread(target=run_loop, args=("quiet", lambda: 0.01, stop), kwargs={"registry": registry})
    t.start()
    time.sleep(0.1)
    assert registry.names() == ["quiet"]
    stop.set()
    t.join(5)
    assert registry.names() == [] and registry.silent() == ()
