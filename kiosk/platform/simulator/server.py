"""Run the simulator on uvicorn (``kiosk platform-sim`` and the launcher use this).

``python -m kiosk.platform.simulator.server --port 0`` binds an ephemeral port
and prints ``PLATFORM-SIM READY http://127.0.0.1:<port>`` once it serves.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import os
import socket
import sys

import uvicorn

from kiosk.platform.simulator.app import create_app
from kiosk.platform.simulator.launcher import (
    READY_PREFIX,
    add_arguments,
    admin_token_from,
    device_secret_from,
    die_with_parent,
)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        try:
            print(READY_PREFIX + self._url, flush=True)
        except BrokenPipeError:
            # The process that started us stopped reading (a kiosk that exited while its
            # simulator was still starting, e.g. restarting to take an update): serve on
            # quietly, as when it had read the line, instead of failing the start.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 42,
    *,
    state_path: str | None = None,
    latency_ms: int = 0,
    error_rate: float = 0.0,
    drop_rate: float = 0.0,
    outage: bool = False,
    device_secret: str = "dev-secret-change-me",
    today: _dt.date | None = None,
    access_log: bool = False,
    admin_token: str | None = None,
) -> None:
    app = create_app(seed, today=today, state_path=state_path, device_secret=device_secret, admin_token=admin_token)
    f = app.state.sim.faults
    f.latency_ms, f.error_rate, f.drop_rate, f.outage = latency_ms, error_rate, drop_rate, outage
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY; without it every answer
    # (headers and body are two writes) waits ~40 ms for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"
    # Access logs are off by default: request lines are harmless here, but a
    # real platform's logs must never hold personal data; we keep the habit.
    config = uvicorn.Config(app, log_level="warning", access_log=access_log, timeout_graceful_shutdown=2)
    _Server(config, url).run(sockets=[sock])


def run_from_args(args: argparse.Namespace) -> int:
    die_with_parent()
    args.device_secret = device_secret_from(args)
    serve(
        args.host,
        args.port,
        args.seed,
        state_path=args.state,
        latency_ms=args.latency,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        outage=args.outage,
        device_secret=args.device_secret,
        today=args.today,
        access_log=args.access_log,
        admin_token=admin_token_from(args),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="platform-sim")
    add_arguments(p)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run_from_args(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
