"""A real ``$NOTIFY_SOCKET``: an AF_UNIX datagram socket collecting messages.

Shared by the sd_notify/watchdog tests; plays systemd's part.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Message:
    at: float
    fields: dict[str, str]


@dataclass
class NotifyListener:
    abstract: bool = False
    messages: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if self.abstract:
            name = f"kiosk-test-{uuid.uuid4().hex}"
            self.sock.bind(b"\0" + name.encode())
            self.address = "@" + name
            self._dir = None
        else:
            # AF_UNIX paths are limited to 108 bytes: keep it short.
            self._dir = tempfile.mkdtemp(prefix="kn-", dir="/tmp")
            self.address = os.path.join(self._dir, "notify")
            self.sock.bind(self.address)

    def receive(self, timeout: float) -> Message | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        fields = {}
        for line in data.decode("utf-8").split("\n"):
            if "=" in line:
                k, v = line.split("=", 1)
                fields[k] = v
        msg = Message(time.monotonic(), fields)
        self.messages.append(msg)
        return msg

    def wait_for(self, predicate, timeout: float) -> Message | None:
        """Receive until a message satisfies ``predicate``; None on timeout."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            msg = self.receive(left)
            if msg is not None and predicate(msg.fields):
                return msg
        return None

    def collect(self, seconds: float) -> list[Message]:
        """Everything that arrives in the next ``seconds``."""
        got = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            msg = self.receive(left)
            if msg is not None:
                got.append(msg)
        return got

    def close(self) -> None:
        self.sock.close()
        if self._dir:
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass
            os.rmdir(self._dir)
