"""Shared fixtures and helpers for the platform tests (imported by test_platform_*.py)."""

from __future__ import annotations

import socket

import httpx
import pytest

from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.simulator.launcher import SimulatorHandle, admin_headers, start_simulator

TODAY = "2026-06-15"          # fixed data date: every run sees the same residents and dates
SECRET = "test-secret-123"
DEVICE = "SX-TEST-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int = 0, state_path: str | None = None, extra: list[str] | None = None) -> SimulatorHandle:
    return start_simulator("127.0.0.1", port, 42, device_secret=SECRET, state_path=state_path,
                           extra_args=["--today", TODAY] + (extra or []))


def client(url: str, **kw) -> HttpPlatform:
    kw.setdefault("connect_timeout", 1.0)
    kw.setdefault("read_timeout", 3.0)
    kw.setdefault("backoff_base", 0.05)
    return HttpPlatform(url, kw.pop("device_id", DEVICE), kw.pop("secret", SECRET), **kw)


def admin(url: str, method: str, path: str, **kw):
    """An admin call with the token of the simulator this process started at ``url``."""
    r = httpx.request(method, url + path, timeout=10, headers=admin_headers(url), **kw)
    r.raise_for_status()
    return r.json()


def sample(url: str, n: int = 5, qualifies: int | None = None, offset: int = 0) -> list[dict]:
    params = {"n": n, "offset": offset}
    if qualifies is not None:
        params["qualifies"] = qualifies
    return admin(url, "GET", "/admin/residents/sample", params=params)["residents"]


def submissions(url: str) -> list[dict]:
    return admin(url, "GET", "/admin/submissions")["submissions"]


@pytest.fixture(scope="module")
def sim():
    handle = start()
    yield handle
    handle.stop()


@pytest.fixture()
def platform(sim):
    p = client(sim.url)
    yield p
    p.close()
