"""Start the platform simulator on loopback when the kiosk runs on embedded defaults.

``kiosk run``, ``kiosk flow run`` and ``kiosk selftest`` call
``ensure_simulator(cfg.platform.url, cfg.platform.simulator_seed, ...)`` when
``platform.start_simulator`` is true. If the URL is a plain-http loopback URL
(the shipped default ``http://127.0.0.1:8765``) and nothing answers there, the
simulator is started in a subprocess on that port, and the call returns once it
serves; ``handle.stop()`` ends it (also done at interpreter exit, and the child
dies with the kiosk even on SIGKILL via PR_SET_PDEATHSIG). Any other URL, or a
port that already answers, returns None: the kiosk then talks to whatever is
configured.

Admin routes (``/admin/...``: staff login QR codes, full ID numbers, fault
injection) need ``Authorization: Bearer <token>`` (issue 12, fault 3). The
launcher makes a fresh random token for each simulator it starts and hands it
over in ``$KIOSK_SIM_ADMIN_TOKEN`` (never on the command line, which every
local user can read); ``handle.admin_token`` and :func:`admin_headers` give it
to the kiosk's demo helpers, tests and benches in this process. A simulator
started by hand (``kiosk platform-sim``) writes its token to a 0600 file
(``--admin-token-file``, default ``var/platform-sim.admin-token``).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import datetime as _dt
import importlib.util
import logging
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from kiosk import ROOT
from kiosk.core.errors import PlatformError
from kiosk.core.processes import ProcessHandle

# The simulator's own packages come with the `sim` extra (pyproject.toml); a
# production install has neither, and the launcher is the one place that says so.
SIM_EXTRA_MODULES = ("fastapi", "uvicorn")
#: What the simulator process prints once it serves (kiosk.platform.simulator.server).
READY_PREFIX = "PLATFORM-SIM READY "

log = logging.getLogger("kiosk.platform")

DEFAULT_URL = "http://127.0.0.1:8765"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_local_default(url: str) -> bool:
    """A plain-http URL on loopback with an explicit port: ours to start."""
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK and parts.port is not None


def answers(url: str, timeout: float = 0.5) -> bool:
    """Does anything speak HTTP at ``url``?"""
    try:
        httpx.get(url.rstrip("/") + "/v1/health", timeout=timeout)
        return True
    except httpx.HTTPError:
        return False


PARENT_ENV = "KIOSK_SIM_PARENT_PID"


def die_with_parent() -> None:
    """In the simulator process: get SIGTERM when the kiosk that started it dies (even by SIGKILL).

    Done by the child itself (not a preexec_fn, which is unsafe in a threaded parent).
    """
    expected = os.environ.get(PARENT_ENV)
    if not expected:
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != int(expected):  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


ADMIN_TOKEN_ENV = "KIOSK_SIM_ADMIN_TOKEN"
DEFAULT_ADMIN_TOKEN_FILE = ROOT / "var" / "platform-sim.admin-token"
_TOKENS: dict[str, str] = {}  # simulator URL -> admin token, for the simulators this process started


def admin_headers(url: str) -> dict[str, str]:
    """Headers for the admin routes of the simulator at ``url`` (started by this process, else
    the token file a hand-started simulator wrote); empty when the token is unknown."""
    base = url.rstrip("/")
    token = _TOKENS.get(base)
    if token is None:
        try:
            token = DEFAULT_ADMIN_TOKEN_FILE.read_text(encoding="ascii").strip()
        except OSError:
            return {}
    return {"Authorization": f"Bearer {token}"}


@dataclass
class SimulatorHandle(ProcessHandle):
    url: str
    process: subprocess.Popen[str]
    admin_token: str = ""

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the simulator (idempotent)."""
        super().stop(timeout)
        if self.process.stdout:
            self.process.stdout.close()


SECRET_ENV = "KIOSK_SIM_DEVICE_SECRET"  # read by kiosk.platform.simulator.server


# The simulator's command line (`kiosk platform-sim`, `python -m ...server`); here, not in
# the server module, so `kiosk --help` works without the sim extra.
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 = any free port (printed on the READY line)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--state", help="JSON-lines journal of submissions (survives restarts)")
    p.add_argument("--latency", type=int, default=0, metavar="MS", help="added latency per request")
    p.add_argument("--error-rate", type=float, default=0.0, metavar="R", help="share of 5xx answers (0..1)")
    p.add_argument("--drop-rate", type=float, default=0.0, metavar="R", help="share of dropped connections (0..1)")
    p.add_argument("--outage", action="store_true", help="drop every /v1 connection (full outage)")
    # Never the secret itself on the command line (every local user can read /proc/*/cmdline):
    # it comes from $KIOSK_SIM_DEVICE_SECRET or a file.
    p.add_argument(
        "--device-secret-file",
        metavar="FILE",
        help=f"file holding the device secret (default: ${SECRET_ENV}, else the demo secret)",
    )
    p.add_argument(
        "--admin-token-file",
        metavar="FILE",
        help=f"where the /admin bearer token is written (mode 0600) when ${ADMIN_TOKEN_ENV} "
        f"does not give one (default: var/platform-sim.admin-token)",
    )
    p.add_argument("--today", type=_dt.date.fromisoformat, help="fixed date (YYYY-MM-DD) for reproducible runs")
    p.add_argument("--access-log", action="store_true")


def require_sim_extra() -> None:
    """Raise ``PlatformError`` naming the extra when the simulator's packages are missing."""
    missing = [m for m in SIM_EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise PlatformError(
            f"the platform simulator needs {', '.join(missing)}: install the 'sim' extra "
            "(pip install -c constraints.txt '.[sim]'), or set [platform] start_simulator = false"
        )


def device_secret_from(args: argparse.Namespace) -> str:
    """The simulator's device secret: ``--device-secret-file``, else ``$KIOSK_SIM_DEVICE_SECRET``, else the demo one."""
    if getattr(args, "device_secret_file", None):
        with open(args.device_secret_file, encoding="utf-8") as f:
            return f.read(4096).strip()
    return os.environ.get(SECRET_ENV) or "dev-secret-change-me"


def admin_token_from(args: argparse.Namespace) -> str:
    """The simulator's admin token: ``$KIOSK_SIM_ADMIN_TOKEN`` (from the launcher), else a fresh
    one written to ``--admin-token-file`` (0600) for whoever started the simulator by hand."""
    token = os.environ.pop(ADMIN_TOKEN_ENV, "")  # not inherited by anything the simulator starts
    if token:
        return token
    from kiosk.core.storage import write_text_atomic

    token = secrets.token_urlsafe(32)
    path = getattr(args, "admin_token_file", None) or DEFAULT_ADMIN_TOKEN_FILE
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_text_atomic(path, token + "\n", mode=0o600)
    log.warning("platform simulator admin token written to %s", path)
    return token


def start_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 42,
    *,
    device_secret: str = "dev-secret-change-me",
    state_path: str | None = None,
    extra_args: list[str] | None = None,
    startup_timeout: float = 20.0,
) -> SimulatorHandle:
    """Start a simulator subprocess (``port=0``: any free port) and wait until it serves."""
    require_sim_extra()
    cmd = [
        sys.executable,
        "-m",
        "kiosk.platform.simulator.server",
        "--host",
        host,
        "--port",
        str(port),
        "--seed",
        str(seed),
    ]
    if state_path:
        cmd += ["--state", str(state_path)]
    cmd += extra_args or []
    env = dict(os.environ)
    root = str(ROOT)  # the repository root, which holds the kiosk package
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env[PARENT_ENV] = str(os.getpid())
    env[SECRET_ENV] = device_secret  # never on the command line: /proc/<pid>/cmdline is world-readable
    token = secrets.token_urlsafe(32)
    env[ADMIN_TOKEN_ENV] = token
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + startup_timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise PlatformError(f"platform simulator did not start within {startup_timeout:.0f}s")
            line = proc.stdout.readline()
            if not line:
                raise PlatformError(f"platform simulator exited during start (code {proc.wait()})")
            if line.startswith(READY_PREFIX):
                url = line[len(READY_PREFIX) :].strip()
                break
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        sel.close()
    handle = SimulatorHandle(url, proc, token)
    _TOKENS[url.rstrip("/")] = token
    atexit.register(handle.stop)
    log.info("platform simulator (seed %d) serving at %s, pid %d", seed, url, proc.pid)
    return handle


def ensure_simulator(
    url: str, seed: int = 42, *, device_secret: str = "dev-secret-change-me", state_path: str | None = None
) -> SimulatorHandle | None:
    """Start the simulator at ``url`` if it is the local default and silent; else None."""
    if not is_local_default(url):
        return None
    if answers(url):
        log.info("platform at %s already answers; not starting the simulator", url)
        return None
    parts = urlsplit(url)
    return start_simulator(
        parts.hostname or "127.0.0.1", parts.port or 8765, seed, device_secret=device_secret, state_path=state_path
    )
