"""Helpers for the child processes the kiosk starts (platform simulator, local broker)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM, wait ``timeout`` s, then SIGKILL; idempotent."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


class ProcessHandle:
    """Mixin for a handle holding a child in ``self.process``: pid, running, stop."""

    process: subprocess.Popen[Any]

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the child (idempotent)."""
        stop_process(self.process, timeout)
