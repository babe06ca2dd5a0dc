"""Supervised background loops: survive any exception, and prove they are alive.

Every long-running worker thread of the kiosk (outbox sender, platform
heartbeat, device readers, camera grabber, QR scanner) runs its body through
:func:`run_loop`. The loop

* calls ``step()`` again and again; ``step`` returns the seconds to wait
  before the next call (0 or None: at once);
* survives any ``Exception`` from ``step``: logs it with its traceback ONCE
  per distinct failure (a disk that stays full must not flood the journal),
  backs off exponentially (capped) and tries again; logs once more when the
  loop recovers;
* beats a liveness :class:`Heartbeat` before every step. The beat says "the
  next beat will come within ``idle + max_silence`` seconds". The systemd
  watchdog (kiosk/watchdog.py) asks :data:`LIVENESS` for loops that missed
  their beat (stuck inside a step, e.g. a device handler that never returns)
  or whose thread ended without being stopped (dead), and stops its pings:
  systemd then restarts the kiosk.

Code deep inside a step that legitimately runs long (a camera's grab loop)
calls :func:`beat` itself; it finds the current thread's heartbeat.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("kiosk.core.supervised")

#: Default seconds a step may take before its loop counts as stuck.
DEFAULT_MAX_SILENCE = 60.0


@dataclass(frozen=True)
class Silent:
    """A loop the watchdog should worry about."""

    name: str
    thread: str
    overdue: float  # seconds past its expected beat (0 for a dead thread)
    dead: bool = False  # its thread ended without being asked to stop

    def describe(self) -> str:
        if self.dead:
            return f"{self.name} thread died"
        return f"{self.name} silent {self.overdue:.0f} s past its beat"


class Heartbeat:
    """Liveness of one loop, registered in a :class:`Liveness`."""

    def __init__(self, registry: Liveness, name: str, max_silence: float) -> None:
        self.registry = registry
        self.name = name
        self.max_silence = float(max_silence)
        self.thread = threading.current_thread().name
        self.due = registry.clock() + self.max_silence
        self.dead = False

    def beat(self, idle: float = 0.0) -> None:
        """Alive now; the next beat comes within ``idle + max_silence`` seconds."""
        self.due = self.registry.clock() + max(0.0, idle) + self.max_silence

    def close(self, *, dead: bool = False) -> None:
        """Stopped on purpose (removed), or ``dead=True``: ended unexpectedly (kept, flagged)."""
        if dead:
            self.dead = True
        else:
            self.registry._remove(self)


class Liveness:
    """The set of running loops and their heartbeats (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._beats: list[Heartbeat] = []

    def register(self, name: str, max_silence: float = DEFAULT_MAX_SILENCE) -> Heartbeat:
        hb = Heartbeat(self, name, max_silence)
        with self._lock:
            self._beats.append(hb)
        return hb

    def _remove(self, hb: Heartbeat) -> None:
        with self._lock:
            if hb in self._beats:
                self._beats.remove(hb)

    def silent(self, now: float | None = None) -> tuple[Silent, ...]:
        """Loops that are dead or missed their beat."""
        now = self.clock() if now is None else now
        with self._lock:
            beats = list(self._beats)
        return tuple(
            Silent(b.name, b.thread, 0.0 if b.dead else now - b.due, b.dead) for b in beats if b.dead or now > b.due
        )

    def names(self) -> list[str]:
        with self._lock:
            return [b.name for b in self._beats]


#: The process-wide registry the watchdog checks.
LIVENESS = Liveness()

_current = threading.local()


def beat(idle: float = 0.0) -> None:
    """Beat the heartbeat of the loop running on this thread (no-op outside a loop)."""
    hb = getattr(_current, "heartbeat", None)
    if hb is not None:
        hb.beat(idle)


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base * 2**(failures-1), capped, in [d/2, d]."""
    d = min(cap, base * 2 ** min(max(failures - 1, 0), 20))
    return random.uniform(d / 2, d)


def run_loop(
    name: str,
    step: Callable[[], float | None],
    stop: threading.Event,
    *,
    wait: Callable[[float], object] | None = None,
    max_silence: float = DEFAULT_MAX_SILENCE,
    backoff_base: float = 0.5,
    backoff_cap: float = 30.0,
    registry: Liveness | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Run ``step`` until ``stop`` is set, surviving any exception (use as a thread target).

    ``wait(seconds)`` sleeps between steps (default ``stop.wait``; pass e.g. an
    Event's wait to be woken early). It is called with a bounded delay even
    when ``step`` asks for a long one, so the loop re-checks ``stop``.
    """
    logger = logger or log
    registry = registry or LIVENESS
    sleep = wait or stop.wait
    hb = registry.register(name, max_silence)
    _current.heartbeat = hb
    failures = 0
    last_failure = ""
    try:
        while not stop.is_set():
            hb.beat()
            try:
                delay = step() or 0.0
            except Exception as exc:
                if stop.is_set():
                    break  # close() raced the step (e.g. a client closed under it): not a failure
                failures += 1
                what = f"{type(exc).__name__}: {exc}"
                delay = backoff_delay(failures, backoff_base, backoff_cap)
                if what != last_failure:
                    logger.exception("%s failed (retrying with backoff, logged once): %s", name, what)
                    last_failure = what
                else:
                    logger.debug("%s failed again (%d in a row): %s", name, failures, what)
            else:
                if failures:
                    logger.warning("%s recovered after %d failed attempt(s)", name, failures)
                failures, last_failure = 0, ""
            if stop.is_set():
                break
            if delay > 0:
                hb.beat(delay)
                sleep(delay)
    finally:
        _current.heartbeat = None
        # Ending while not asked to stop (BaseException, interpreter shutdown) is a death the
        # watchdog must see; a requested stop just leaves the registry.
        hb.close(dead=not stop.is_set())
        if not stop.is_set():
            logger.error("%s thread ended unexpectedly", name)


def start_loop(name: str, step: Callable[[], float | None], stop: threading.Event, **kw: Any) -> threading.Thread:
    """``run_loop`` on a new daemon thread named ``name``; returns the started thread."""
    t = threading.Thread(target=run_loop, args=(name, step, stop), kwargs=kw, name=name, daemon=True)
    t.start()
    return t
