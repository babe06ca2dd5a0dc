"""Pure-Python ``sd_notify``: tell systemd the kiosk's state.

The protocol is one datagram of ``KEY=value`` lines sent to the AF_UNIX
socket named in ``$NOTIFY_SOCKET`` (a leading ``@`` means the Linux abstract
namespace). When the variable is unset (run from a shell, in tests without a
supervisor) every call is a silent no-op, so the app never needs to check.

Kivy-free on purpose: the watchdog thread and ``kiosk selftest`` use it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Mapping

log = logging.getLogger("kiosk.sdnotify")

ENV_SOCKET = "NOTIFY_SOCKET"
ENV_WATCHDOG_USEC = "WATCHDOG_USEC"
ENV_WATCHDOG_PID = "WATCHDOG_PID"


def _address(raw: str) -> str | bytes | None:
    """``$NOTIFY_SOCKET`` -> a connectable address, or None if unusable."""
    if not raw:
        return None
    if raw.startswith("@"):
        # Abstract namespace: the name starts with a NUL byte, no path on disk.
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    log.warning("ignoring NOTIFY_SOCKET %r: neither a path nor an abstract name", raw)
    return None


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between required pings (``WatchdogSec=``), or None if no watchdog.

    Honours ``$WATCHDOG_PID``: when set to another process's pid the watchdog
    is not ours (e.g. inherited by a child), as in sd_watchdog_enabled(3).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_WATCHDOG_USEC, "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get(ENV_WATCHDOG_PID, "")
    if pid and pid != str(os.getpid()):
        return None
    return usec / 1_000_000


class Notifier:
    """Sends notifications to one socket; thread-safe; never raises on send.

    ``Notifier()`` reads ``$NOTIFY_SOCKET``; ``Notifier(address)`` forces one
    (``"/run/x.sock"`` or ``"@name"``); ``Notifier("")`` is a no-op notifier.
    """

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get(ENV_SOCKET, "") if address is None else address
        self._address = _address(raw)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, state: str) -> bool:
        """Send ``state`` (newline-separated ``KEY=value`` lines). True if sent."""
        if self._address is None:
            return False
        data = state.encode("utf-8")
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                    # Never block the caller: a full socket buffer drops the ping.
                    self._sock.settimeout(1.0)
                self._sock.sendto(data, self._address)
                self._warned = False
                return True
            except OSError as exc:
                if not self._warned:  # log once per outage, not once per ping
                    log.warning("sd_notify to %r failed: %s", self._address, exc)
                    self._warned = True
                self._close_locked()
                return False

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (Type=notify start-up finished), optionally with a status."""
        return self.notify("READY=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))

    def status(self, text: str) -> bool:
        """``STATUS=text``: the line ``systemctl status kiosk`` shows."""
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: keep-alive ping for ``WatchdogSec=``."""
        return self.notify("WATCHDOG=1")

    def watchdog_trigger(self) -> bool:
        """``WATCHDOG=trigger``: ask systemd to act as if the watchdog expired."""
        return self.notify("WATCHDOG=trigger")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: a clean shutdown has begun."""
        return self.notify("STOPPING=1" + (f"\nSTATUS={_one_line(status)}" if status else ""))

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


def _one_line(text: str) -> str:
    # A newline would start a new KEY=value assignment in the datagram.
    return " ".join(str(text).split())


_default: Notifier | None = None
_default_lock = threading.Lock()


def default_notifier() -> Notifier:
    """The process-wide notifier for ``$NOTIFY_SOCKET`` (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Notifier()
        return _default


def notify(state: str) -> bool:
    return default_notifier().notify(state)


def ready(status: str | None = None) -> bool:
    return default_notifier().ready(status)


def status(text: str) -> bool:
    return default_notifier().status(text)


def watchdog() -> bool:
    return default_notifier().watchdog()


def stopping(status: str | None = None) -> bool:
    return default_notifier().stopping(status)
