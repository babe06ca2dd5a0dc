"""The app's last-resort exception handler: a bug never leaves a traceback or a dead kiosk.

Any exception that escapes a Kivy callback (a screen's button handler, a
Clock event) reaches Kivy's ExceptionManager. This handler logs it with its
traceback, ends the visit (a resident's data leaves with them), shows a calm
Chinese sentence on the attract screen and keeps the event loop running.
Errors escaping worker threads are logged through ``threading.excepthook``.

A storm (more than ``MAX_IN_WINDOW`` within ``WINDOW_S`` seconds) means the
app cannot recover by itself: the exception is raised so the process ends and
systemd's ``Restart=always`` starts it afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from kivy.base import ExceptionHandler, ExceptionManager

log = logging.getLogger("kiosk.app")

CALM_MESSAGE_ZH = "系统刚才出了点小问题，已回到首页。请重新开始办理。"
MAX_IN_WINDOW = 5
WINDOW_S = 30.0


class LastResort(ExceptionHandler):
    def __init__(self, app) -> None:
        self.app = app
        self._recent: deque[float] = deque(maxlen=MAX_IN_WINDOW)

    def handle_exception(self, exc: BaseException):
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        now = time.monotonic()
        self._recent.append(now)
        log.error("unhandled exception in the UI; back to the attract screen", exc_info=exc)
        if len(self._recent) == MAX_IN_WINDOW and now - self._recent[0] < WINDOW_S:
            log.critical("%d unhandled exceptions within %.0f s: letting the kiosk restart", MAX_IN_WINDOW, WINDOW_S)
            return ExceptionManager.RAISE
        try:
            self.app.recover_from_crash(CALM_MESSAGE_ZH)
        except Exception:  # noqa: BLE001 - recovering must not raise again
            log.exception("returning to the attract screen failed")
        return ExceptionManager.PASS


def install(app) -> LastResort:
    handler = LastResort(app)
    ExceptionManager.add_handler(handler)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        log.error("unhandled exception in thread %s", args.thread.name if args.thread else "?",
                  exc_info=args.exc_value if args.exc_value is not None else True)

    threading.excepthook = thread_hook
    return handler
