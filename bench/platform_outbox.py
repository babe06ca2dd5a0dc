#!/usr/bin/env python3
"""Outbox and platform-adapter figures against the loopback simulator.

1. Drain rate: submissions/s the outbox delivers from a pre-filled queue,
   against a baseline of bare signed httpx POSTs of the same submissions.
2. kill -9: runs, acknowledged, delivered, duplicates (kiosk.platform.killcheck).
3. Latency the adapter adds over a raw httpx round trip (p50/p95), interleaved
   in the same run, for an enquiry and a submission.

    python bench/platform_outbox.py [--n 500] [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from kiosk.platform import killcheck, signing  # noqa: E402
from kiosk.platform.http_client import HttpPlatform  # noqa: E402
from kiosk.platform.simulator.launcher import start_simulator  # noqa: E402
from kiosk.platform.outbox import Outbox  # noqa: E402

SECRET, DEVICE = "bench-secret", "SX-BENCH-1"


def raw_post(client: httpx.Client, path: str, payload: dict, key: str | None = None) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", signing.HEADER_DEVICE: DEVICE, signing.HEADER_TIMESTAMP: ts,
               signing.HEADER_SIGNATURE: signing.sign(SECRET, "POST", path, ts, DEVICE, body)}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(path, content=body, headers=headers)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500, help="submissions for the drain measurement")
    ap.add_argument("--runs", type=int, default=200, help="kill -9 runs")
    ap.add_argument("--samples", type=int, default=400, help="latency samples per call kind")
    args = ap.parse_args()
    sim = start_simulator(port=0, seed=42, device_secret=SECRET, extra_args=["--today", "2026-06-15"])
    try:
        people = httpx.get(sim.url + "/admin/residents/sample", params={"n": 50, "qualifies": 1},
                           headers=sim.admin_headers).json()["residents"]
        ids = [p["id_number"] for p in people]
        raw = httpx.Client(base_url=sim.url, timeout=10,
                           transport=httpx.HTTPTransport(socket_options=[(6, 1, 1)]))  # TCP_NODELAY, like ours
        platform = HttpPlatform(sim.url, DEVICE, SECRET, 3.0, 8.0)

        # 1. drain rate -------------------------------------------------------
        t = time.perf_counter()
        for i in range(args.n):
            r = raw_post(raw, "/v1/applications/1", {"id_number": ids[i % len(ids)], "fields": {"n": i}}, uuid.uuid4().hex)
            assert r.status_code == 201
        raw_rate = args.n / (time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as d:
            box = Outbox(Path(d) / "outbox.json", platform, autostart=False)
            t = time.perf_counter()
            for i in range(args.n):
                box.enqueue(1, ids[i % len(ids)], {"n": i})
            enqueue_rate = args.n / (time.perf_counter() - t)
            t = time.perf_counter()
            box.start()
            assert box.drain(600)
            drain_rate = args.n / (time.perf_counter() - t)
            box.close()
        print("== outbox drain (loopback simulator)")
        print(f"  raw signed httpx POSTs        {raw_rate:8.1f} submissions/s  (baseline)")
        print(f"  outbox drain                  {drain_rate:8.1f} submissions/s  ({drain_rate / raw_rate:.2f}x baseline)")
        print(f"  outbox enqueue (fsynced)      {enqueue_rate:8.1f} submissions/s")

        # 3. adapter latency ---------------------------------------------------
        lat: dict[str, list[float]] = {k: [] for k in ("raw_enq", "ad_enq", "raw_sub", "ad_sub")}
        for i in range(args.samples):
            t = time.perf_counter()
            raw_post(raw, "/v1/enquiries/12", {"id_number": None, "params": {}}).json()
            lat["raw_enq"].append(time.perf_counter() - t)
            t = time.perf_counter()
            platform.enquiry(12, None)
            lat["ad_enq"].append(time.perf_counter() - t)
            t = time.perf_counter()
            raw_post(raw, "/v1/applications/1", {"id_number": ids[0], "fields": {}}, uuid.uuid4().hex).json()
            lat["raw_sub"].append(time.perf_counter() - t)
            t = time.perf_counter()
            platform.submit(1, ids[0], {}, uuid.uuid4().hex)
            lat["ad_sub"].append(time.perf_counter() - t)
        print("== adapter latency over a raw httpx round trip (same run, interleaved)")
        for kind, a, b in (("enquiry", "raw_enq", "ad_enq"), ("submit", "raw_sub", "ad_sub")):
            r50, r95 = pct(lat[a], .5) * 1000, pct(lat[a], .95) * 1000
            p50, p95 = pct(lat[b], .5) * 1000, pct(lat[b], .95) * 1000
            print(f"  {kind:8s} raw p50 {r50:6.2f} ms p95 {r95:6.2f} ms | adapter p50 {p50:6.2f} ms p95 {p95:6.2f} ms"
                  f" | added p50 {p50 - r50:+.2f} ms p95 {p95 - r95:+.2f} ms ({p50 / r50:.2f}x)")
            # Paired: adapter call minus the raw call just before it (same load at that moment).
            diff = [(y - x) * 1000 for x, y in zip(lat[a], lat[b])]
            print(f"  {'':8s} paired difference adapter - raw: p50 {pct(diff, .5):+.2f} ms p95 {pct(diff, .95):+.2f} ms"
                  f" (n={len(diff)})")
        platform.close()
        raw.close()

        # 2. kill -9 ---------------------------------------------------------
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            rep = killcheck.run(Path(d) / "outbox.json", lambda: HttpPlatform(sim.url, DEVICE, SECRET, 1.0, 3.0, max_attempts=1),
                                ids, lambda: [s["idempotency_key"] for s in httpx.get(sim.url + "/admin/submissions", timeout=30, headers=sim.admin_headers).json()["submissions"]],
                                runs=args.runs)
            took = time.perf_counter() - t
        print(f"== kill -9 during submission ({took:.0f} s)")
        print("  runs  acknowledged  delivered  duplicates  lost")
        print(f"  {rep.runs:4d}  {rep.acknowledged:12d}  {rep.delivered:9d}  {rep.duplicates:10d}  {rep.lost:4d}")
        return 0 if rep.lost == 0 and rep.duplicates == 0 else 1
    finally:
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
