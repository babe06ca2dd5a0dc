"""Lines typed on stdin for the interactive simulator commands (`kiosk sim …`)."""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Iterator


def take_ctrl_c() -> None:
    """Let Ctrl-C (SIGINT) end the command even if it was started with SIGINT ignored.

    A non-interactive shell starts background jobs (`cmd &`, CI scripts, a
    technician's `nohup`) with SIGINT ignored, and Python then leaves it
    ignored: `kill -INT` would not stop the simulator.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stdin_lines(poll: float = 0.2) -> Iterator[str]:
    """Each line of stdin, until it closes.

    The main thread wakes every ``poll`` seconds instead of blocking in read():
    the kernel may deliver Ctrl-C or SIGTERM to one of the simulator's threads,
    and a main thread blocked in read() would then never run Python's handler
    (a `kiosk sim idcard` once ignored SIGINT this way until it was killed).
    """
    fd = sys.stdin.fileno()
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], poll)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            if pending:
                yield pending.decode("utf-8", errors="replace")
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode("utf-8", errors="replace") + "\n"
