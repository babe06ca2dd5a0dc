"""A bounded in-memory ring of recent log lines (technician screen, fault reports).

``install()`` adds one ``LogBuffer`` handler to the root logger (idempotent)
and returns it; ``lines(n)`` gives the newest formatted lines. Lines pass
through ``kiosk.core.idnumber.scrub`` like the journal's, so no full ID
number sits in memory for the technician to see. Kivy-free.
"""

from __future__ import annotations

import collections
import logging
import threading

from kiosk.core.idnumber import scrub

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DEFAULT_CAPACITY = 500


class LogBuffer(logging.Handler):
    """Keeps the last ``capacity`` records as formatted, scrubbed text."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.capacity = capacity
        self._lines: collections.deque[tuple[int, str]] = collections.deque(maxlen=capacity)
        self._mutex = threading.Lock()
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = scrub(self.format(record))
        except Exception:  # noqa: BLE001 - a bad record must not break logging
            self.handleError(record)
            return
        with self._mutex:
            self._lines.append((record.levelno, text))

    def lines(self, n: int | None = None, min_level: int = logging.NOTSET) -> list[str]:
        """The newest ``n`` lines (all when None), oldest first."""
        with self._mutex:
            picked = [t for lvl, t in self._lines if lvl >= min_level]
        return picked if n is None else picked[-n:] if n > 0 else []

    def clear(self) -> None:
        with self._mutex:
            self._lines.clear()


_installed: LogBuffer | None = None
_install_lock = threading.Lock()


def install(capacity: int = DEFAULT_CAPACITY) -> LogBuffer:
    """Attach the shared buffer to the root logger once; later calls return it."""
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = LogBuffer(capacity)
            logging.getLogger().addHandler(_installed)
        return _installed


def get() -> LogBuffer | None:
    """The installed buffer, or None when nobody installed one (e.g. a CLI run)."""
    return _installed


def recent(n: int = 100) -> list[str]:
    return _installed.lines(n) if _installed is not None else []
