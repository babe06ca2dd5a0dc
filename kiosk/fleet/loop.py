"""One selector loop driving any number of fleet clients on one thread.

A kiosk runs one client on one loop; ``kiosk fleet simulate`` runs thousands
on one loop, with the same client code. paho-mqtt is driven through its
external-loop API (``loop_read``/``loop_write``/``loop_misc`` and the socket
callbacks), so no paho thread exists and nothing here touches the UI thread.

Other threads hand work to the loop with :meth:`call_soon` (thread-safe; a
socketpair wakes the selector). The loop thread survives any exception: a
failing client is logged once per kind of failure, disconnected and retried
with backoff; a failing loop iteration is logged and retried after a pause.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("kiosk.fleet.loop")


class Driven(Protocol):
    def tick(self, now: float) -> None: ...
    def on_readable(self) -> None: ...
    def on_writable(self) -> None: ...
    def fail(self, exc: BaseException) -> None: ...


class Loop:
    def __init__(self, name: str = "fleet", tick_every: float = 0.5) -> None:
        self.name = name
        self.tick_every = tick_every
        self.sel = selectors.DefaultSelector()
        self.clients: list[Driven] = []
        self._calls: collections.deque[tuple[Callable[..., Any], tuple, dict]] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._logged: set[str] = set()
        self.thread_id: int | None = None

    # -- API for other threads ----------------------------------------------
    def add(self, client: Driven) -> None:
        self.call_soon(self.clients.append, client)

    def call_soon(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._calls.append((fn, args, kwargs))
        if threading.get_ident() != self.thread_id:
            with contextlib.suppress(BlockingIOError, OSError):  # the pipe is full: the loop is awake anyway
                self._wake_w.send(b"\0")

    def start(self) -> Loop:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- socket registration (called by clients, on the loop thread) --------------
    def watch(self, sock: Any, client: Driven, write: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        try:
            self.sel.modify(sock, events, client)
        except KeyError:
            self.sel.register(sock, events, client)

    def unwatch(self, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(sock)

    # -- the loop -------------------------------------------------------------------
    def run(self) -> None:
        self.thread_id = threading.get_ident()
        pause = 0.1
        next_tick = 0.0
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now >= next_tick:
                    next_tick = now + self.tick_every
                    for client in list(self.clients):
                        self._guarded(client, client.tick, time.time())
                self._run_calls()
                for key, mask in self.sel.select(max(0.0, min(self.tick_every, next_tick - time.monotonic()))):
                    if key.data is None:
                        with contextlib.suppress(BlockingIOError):
                            self._wake_r.recv(4096)
                        continue
                    client = key.data
                    if mask & selectors.EVENT_READ:
                        self._guarded(client, client.on_readable)
                    if mask & selectors.EVENT_WRITE:
                        self._guarded(client, client.on_writable)
                pause = 0.1
            except Exception as exc:
                self._log_once(
                    f"loop:{type(exc).__name__}", "fleet loop iteration failed: %r; retrying in %.1fs", exc, pause
                )
                self._stop.wait(pause)
                pause = min(pause * 2, 5.0)
        self._run_calls()
        for client in list(self.clients):
            close = getattr(client, "close_now", None)
            if close is not None:
                self._guarded(client, close)

    def _run_calls(self) -> None:
        while self._calls:
            fn, args, kwargs = self._calls.popleft()
            try:
                fn(*args, **kwargs)
            except Exception as exc:
                self._log_once(
                    f"call:{getattr(fn, '__name__', fn)}:{type(exc).__name__}",
                    "fleet loop: %s failed: %r",
                    getattr(fn, "__name__", fn),
                    exc,
                )

    def _guarded(self, client: Driven, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._log_once(
                f"{getattr(fn, '__name__', fn)}:{type(exc).__name__}",
                "fleet client %s: %s failed: %r (disconnecting, will retry)",
                getattr(client, "device_id", "?"),
                getattr(fn, "__name__", fn),
                exc,
            )
            with contextlib.suppress(Exception):
                client.fail(exc)

    def _log_once(self, key: str, msg: str, *args: Any) -> None:
        if key in self._logged:
            log.debug(msg, *args)
        else:
            self._logged.add(key)
            log.error(msg, *args, exc_info=True)
