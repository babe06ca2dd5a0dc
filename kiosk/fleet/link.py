"""Where and how a fleet client connects: broker URL, TLS, credentials, keepalive."""

from __future__ import annotations

import os
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCHEMES = {"mqtt": (False, 1883), "tcp": (False, 1883), "mqtts": (True, 8883), "ssl": (True, 8883)}


@dataclass(frozen=True)
class Link:
    host: str
    port: int
    tls: bool = False
    ca_file: str = ""  # the province's CA; empty = system CAs
    cert_file: str = ""  # per-device client certificate (mutual TLS)
    key_file: str = ""
    username: str = ""
    password: str = ""
    keepalive: int = 60

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file or None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file or None)
        return ctx


def parse_url(url: str, **options) -> Link:
    """``mqtt://host:1883`` or ``mqtts://host:8883`` (a bare ``host:port`` means mqtt)."""
    if "://" not in url:
        url = "mqtt://" + url
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"broker URL {url!r}: scheme must be one of {sorted(SCHEMES)}")
    if not parts.hostname:
        raise ValueError(f"broker URL {url!r}: no host")
    tls, default_port = SCHEMES[parts.scheme]
    opts = dict(options)
    if parts.username and not opts.get("username"):
        opts["username"] = parts.username
        opts["password"] = parts.password or ""
    return Link(parts.hostname, parts.port or default_port, tls, **opts)


class Backoff:
    """Exponential reconnect delay, with random jitter by default.

    Without jitter every kiosk of a county that lost the broker at the same
    moment retries at the same moments (1, 2, 4 ... s) and the broker meets a
    reconnect storm; "full jitter" draws the delay uniformly in [0, d] (with a
    small floor), spreading the herd over the whole window.
    """

    def __init__(
        self, base: float = 1.0, cap: float = 300.0, jitter: bool = True, rng: random.Random | None = None
    ) -> None:
        self.base, self.cap, self.jitter = base, cap, jitter
        self.failures = 0
        self.rng = rng or random.Random()

    def next_delay(self) -> float:
        d = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        self.failures += 1
        return max(0.05, self.rng.uniform(0, d)) if self.jitter else d

    def reset(self) -> None:
        self.failures = 0


class SessionCounter:
    """The birth/death session number (Sparkplug's bdSeq idea): +1 per connection attempt."""

    def __init__(self, path: str | os.PathLike | None = None, start: int = 0) -> None:
        self.path = Path(path) if path else None
        self.value = start
        if self.path and self.path.exists():
            try:
                self.value = int(self.path.read_text("ascii").strip() or 0)
            except (ValueError, OSError):
                self.value = start

    def next(self) -> int:
        self.value += 1
        if self.path:
            from kiosk.core.storage import write_text_atomic

            write_text_atomic(self.path, str(self.value))
        return self.value
