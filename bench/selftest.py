"""How long a technician waits for the self-test, against the bare device round trips.

    /work/venv/bin/python bench/selftest.py [--runs 5]

Starts the platform simulator and the simulated devices (kiosk.demo_devices.demo_hub), then
times, in the same run:

* baseline: the minimum I/O the self-test cannot avoid — one SAM-id read,
  one printer status, one heartbeat — done directly;
* the full ``run_selftest(cfg, hub)`` (nine checks, each on its own thread
  with a timeout, camera frame, QR decode, test social-security card read);
* ``run_selftest`` with the printer silent (the slowest single fault: the
  status request times out twice).

Prints medians and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.core import config  # noqa: E402
from kiosk.demo_devices import demo_hub  # noqa: E402
from kiosk.platform.http_client import HttpPlatform  # noqa: E402
from kiosk.platform.simulator.launcher import start_simulator  # noqa: E402
from kiosk.selftest import run_selftest  # noqa: E402


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    sim = start_simulator(port=0, device_secret="bench-secret")
    tmp = tempfile.mkdtemp(prefix="bench-selftest-")
    cfg = config.load(None, env={"KIOSK__PLATFORM__URL": sim.url, "KIOSK__PLATFORM__DEVICE_SECRET": "bench-secret",
                                 "KIOSK__PLATFORM__START_SIMULATOR": "false", "KIOSK__STORAGE__DIR": tmp})
    hub = demo_hub(cfg)
    hub.start()
    hub.wait_started(30)
    platform = HttpPlatform(sim.url, cfg["site"]["device_id"], "bench-secret", max_attempts=1)
    try:
        def baseline() -> None:
            hub.idcard.read_sam_id()
            hub.printer.status()
            platform.heartbeat({"bench": True})

        base = median_time(baseline, args.runs)
        full = median_time(lambda: run_selftest(cfg, hub, platform=platform), args.runs)
        # One more healthy run, to show where the time goes (checks run in parallel).
        checks = run_selftest(cfg, hub, platform=platform)
        hub.sims.printer_sim.set_state("silent")
        silent = median_time(lambda: run_selftest(cfg, hub, platform=platform), max(1, args.runs // 2))
        hub.sims.printer_sim.set_state("ok")
    finally:
        platform.close()
        hub.close()
        sim.stop()
    print(f"baseline (SAM id + printer status + heartbeat): {base * 1000:8.1f} ms")
    print(f"full self-test, healthy simulators:             {full * 1000:8.1f} ms  ({full / base:5.1f}x baseline)")
    print(f"full self-test, printer silent:                 {silent * 1000:8.1f} ms  ({silent / base:5.1f}x baseline)")
    print("per check, one healthy run (parallel, so the total is the slowest):")
    for c in sorted(checks, key=lambda c: -c.seconds):
        print(f"  {c.name:<10} {c.seconds * 1000:8.1f} ms  {c.status:<8} {c.detail_en[:90]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
