"""Software watchdog: ping systemd only while the kiosk is really alive.

Two things must hold for ``WATCHDOG=1`` to be sent:

* the UI loop is turning: the app calls :meth:`Watchdog.tick` from a Kivy
  ``Clock.schedule_interval`` callback, so a blocked UI loop stops the ticks;
* no device call is stuck: any thread wraps a device call in
  ``with watchdog.deadline("printer.print", seconds=10): ...``; a call still
  inside its block after its deadline counts as stuck;
* every background loop (kiosk/core/supervised.py: outbox sender, heartbeat,
  device readers, camera) beat its liveness heartbeat in time and none of
  their threads died.

A separate daemon thread checks both every ``ping_every`` seconds and pings
only when healthy. When the UI is blocked or a call is stuck the pings stop,
systemd's ``WatchdogSec=`` expires, and ``Restart=always`` brings the kiosk
back. The thread also keeps ``STATUS=`` current (what ``systemctl status``
shows) and writes the reason for stopping into it, so a technician sees *why*
the kiosk was restarted.

Kivy-free: the app owns the Clock; this module only gets ``tick()`` calls.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from kiosk import sdnotify
from kiosk.core.supervised import LIVENESS, Liveness, Silent

log = logging.getLogger("kiosk.watchdog")

#: Used when systemd gives no ``WATCHDOG_USEC`` (run from a shell): the
#: thread still maintains STATUS and health, it just has nobody to ping.
DEFAULT_INTERVAL = 30.0

#: Test hook: the app blocks its UI loop this many seconds after READY when
#: set (see :func:`block_after_from_env`). Never set in production.
ENV_TEST_BLOCK_AFTER = "KIOSK_TEST_BLOCK_UI_AFTER"


class NotifierLike(Protocol):
    def watchdog(self) -> bool: ...
    def status(self, text: str) -> bool: ...
    def ready(self, status: str | None = None) -> bool: ...
    def stopping(self, status: str | None = None) -> bool: ...


@dataclass(frozen=True)
class StuckCall:
    name: str
    thread: str
    overdue: float  # seconds past its deadline


@dataclass(frozen=True)
class Health:
    """A snapshot of what the watchdog thread decides on."""

    ui_age: float                        # seconds since the last tick()
    ui_alive: bool
    stuck: tuple[StuckCall, ...] = ()
    active_calls: tuple[str, ...] = ()   # names of calls inside deadline()
    silent: tuple[Silent, ...] = ()      # background loops stuck or dead

    @property
    def ok(self) -> bool:
        return self.ui_alive and not self.stuck and not self.silent

    @property
    def problem(self) -> str:
        """Short English reason, '' when healthy (goes into STATUS=)."""
        parts = []
        if not self.ui_alive:
            parts.append(f"UI loop not responding for {self.ui_age:.0f} s")
        for s in self.stuck:
            parts.append(f"{s.name} stuck {s.overdue:.0f} s past deadline")
        parts.extend(loop.describe() for loop in self.silent)
        return "; ".join(parts)


@dataclass
class _Call:
    name: str
    thread: str
    expires: float


class Watchdog:
    """Gate systemd's watchdog on UI liveness and device-call deadlines.

    ``notifier``: an :class:`kiosk.sdnotify.Notifier` (default: the one for
    ``$NOTIFY_SOCKET``). ``interval``: systemd's ``WatchdogSec`` in seconds
    (default: from ``$WATCHDOG_USEC``, else :data:`DEFAULT_INTERVAL`).
    ``ping_every``: default ``interval / 4``. ``stale_after``: a UI tick older
    than this means the UI is blocked; default ``interval / 2``, so after a
    hang systemd restarts the kiosk within about ``1.5 * interval``.
    ``clock``: monotonic seconds, injectable for tests.
    """

    def __init__(
        self,
        notifier: NotifierLike | None = None,
        interval: float | None = None,
        *,
        ping_every: float | None = None,
        stale_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        liveness: Liveness | None = None,
    ) -> None:
        self.notifier: NotifierLike = notifier if notifier is not None else sdnotify.default_notifier()
        env_interval = sdnotify.watchdog_interval()
        self.systemd_watchdog = env_interval is not None
        if interval is None:
            interval = env_interval if env_interval is not None else DEFAULT_INTERVAL
        if interval <= 0:
            raise ValueError(f"watchdog interval must be positive, got {interval}")
        self.interval = float(interval)
        self.ping_every = float(ping_every) if ping_every else self.interval / 4
        self.stale_after = float(stale_after) if stale_after else self.interval / 2
        self._clock = clock
        self.liveness = liveness if liveness is not None else LIVENESS
        self._lock = threading.Lock()
        self._last_tick = clock()
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._fields: dict[str, str] = {}
        self._sent_status = ""  # systemd starts with no status
        self._was_ok = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pings = 0  # WATCHDOG=1 sent so far (for the technician screen)

    # --- called by the app -------------------------------------------------
    def tick(self, *_args: object) -> None:
        """Record that the UI loop is alive. Accepts Clock's ``dt`` argument."""
        now = self._clock()
        with self._lock:
            self._last_tick = now

    @contextmanager
    def deadline(self, name: str, seconds: float) -> Iterator[None]:
        """Mark a device call that must finish within ``seconds``.

        Usable from any thread, nestable. Past its deadline the call counts
        as stuck and pings stop until it returns. The call is not
        interrupted: drivers keep their own I/O timeouts; this is the net
        under them.
        """
        if seconds <= 0:
            raise ValueError(f"deadline for {name} must be positive, got {seconds}")
        key = next(self._ids)
        call = _Call(name, threading.current_thread().name, self._clock() + seconds)
        with self._lock:
            self._calls[key] = call
        try:
            yield
        finally:
            with self._lock:
                self._calls.pop(key, None)
            overdue = self._clock() - call.expires
            if overdue > 0:
                log.warning("%s finished %.1f s past its %.1f s deadline", name, overdue, seconds)

    def set_status(self, key: str, text: str | None) -> None:
        """Set one part of the STATUS line, e.g. ``("screen", "attract screen")``.

        Parts keep their first-set order and are joined with "; ", giving
        e.g. "attract screen; outbox 0 queued; printer ok". ``None`` or ''
        removes the part. Sent by the watchdog thread (or :meth:`flush_status`).
        """
        with self._lock:
            if text:
                self._fields[key] = " ".join(str(text).split())
            else:
                self._fields.pop(key, None)

    def status_text(self, health: Health | None = None) -> str:
        health = health or self.health()
        with self._lock:
            text = "; ".join(self._fields.values())
        if not health.ok:
            text = f"NOT RESPONDING: {health.problem}" + (f" | {text}" if text else "")
        return text

    def ready(self) -> None:
        """Send ``READY=1`` (call when the attract screen is up) and start."""
        self.tick()
        text = self.status_text()
        self.notifier.ready(text or None)
        with self._lock:
            self._sent_status = text
        self.start()

    def health(self, now: float | None = None) -> Health:
        now = self._clock() if now is None else now
        with self._lock:
            age = max(0.0, now - self._last_tick)
            calls = list(self._calls.values())
        stuck = tuple(
            StuckCall(c.name, c.thread, now - c.expires) for c in calls if now > c.expires
        )
        return Health(age, age <= self.stale_after, stuck, tuple(c.name for c in calls), self.liveness.silent())

    def check_once(self) -> Health:
        """One round of the thread: ping if healthy, refresh STATUS. Returns health."""
        h = self.health()
        if h.ok:
            if self.notifier.watchdog():
                self.pings += 1
            if not self._was_ok:
                log.warning("watchdog recovered; pinging systemd again")
        elif self._was_ok:
            # Logged once per episode: the journal shows why systemd restarted us.
            log.error("watchdog: withholding WATCHDOG=1: %s", h.problem)
        self._was_ok = h.ok
        self.flush_status(h)
        return h

    def flush_status(self, health: Health | None = None) -> None:
        """Send STATUS= now if it changed since the last send."""
        text = self.status_text(health)
        with self._lock:
            if text == self._sent_status:
                return
            self._sent_status = text
        self.notifier.status(text)

    # --- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        """Start the ping thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="kiosk-watchdog", daemon=True)
            self._thread.start()

    def close(self, status: str | None = "stopping") -> None:
        """Stop the thread and send ``STOPPING=1`` (idempotent)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.ping_every + 1)
            self.notifier.stopping(status)

    def _run(self) -> None:
        while True:
            try:
                self.check_once()
            except Exception:  # the watchdog thread must never die silently
                log.exception("watchdog round failed")
            if self._stop.wait(self.ping_every):
                return


def block_after_from_env() -> float | None:
    """Seconds after READY at which a test wants the UI loop blocked, or None.

    Test hook for the watchdog test: the app does
    ``Clock.schedule_once(lambda dt: time.sleep(3600), s)`` when this is set.
    """
    raw = os.environ.get(ENV_TEST_BLOCK_AFTER, "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None
