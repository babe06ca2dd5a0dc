#!/usr/bin/env python3
"""Record the platform simulator's wire behaviour, to prove a refactoring changed nothing.

    scripts/platform_wire_trace.py OUT.json

Starts the simulator on loopback (seed 42, fixed date) with a journal file, sends
~150 signed, unsigned, malformed and admin requests covering every route, the
error paths, idempotent replays, the clock and fault injection, and writes each
exchange (status, headers, body) plus the final journal to OUT.json. Times,
e-SSC codes and clock skews are masked, so two runs of the same code give the
same file: run it before and after a change and ``cmp`` the two outputs.
"""

import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from kiosk.platform import signing  # noqa: E402
from kiosk.platform.simulator.launcher import SimulatorHandle, start_simulator  # noqa: E402

SECRET, DEV = "trace-secret", "SX-TRACE-1"
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")


def norm(t: str) -> str:
    """Mask what differs from run to run: times, e-SSC codes, clock skews."""
    t = TS.sub("<ts>", t)
    t = re.sub(r"ESSC1\.[\w.-]+", "<qr>", t)
    t = re.sub(r'"expires_at":\d+', '"expires_at":0', t)
    return re.sub(r"off by \d+s", "off by Ns", t)


def trace(h: SimulatorHandle, out: list[dict[str, Any]]) -> None:
    url = h.url

    def call(method: str, path: str, body: Any = None, *, raw: bytes | None = None, ctype: str = "application/json",
             sign: bool = True, headers: dict[str, str] | None = None, admin: bool = False,
             ts: str | None = None) -> httpx.Response:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        hd = {"content-type": ctype} if data else {}
        if sign:
            t = ts or str(int(time.time()))
            hd.update({signing.HEADER_DEVICE: DEV, signing.HEADER_TIMESTAMP: t,
                       signing.HEADER_SIGNATURE: signing.sign(SECRET, method, path, t, DEV, data)})
        if admin:
            hd.update(h.admin_headers)
        hd.update(headers or {})
        r = httpx.request(method, url + path, content=data, headers=hd, timeout=10)
        keep = {k: v for k, v in r.headers.items() if k not in ("date", "server")}
        out.append({"req": [method, path], "status": r.status_code, "headers": keep, "body": norm(r.text)})
        return r

    call("GET", "/v1/health", sign=False)
    call("GET", "/v1/items")
    call("GET", "/v1/items", sign=False)
    call("GET", "/v1/items", ts="1000")
    call("GET", "/v1/items", headers={signing.HEADER_SIGNATURE: "00"})
    res = call("GET", "/admin/residents/sample?n=3&qualifies=22", admin=True).json()["residents"]
    call("GET", "/admin/residents/sample?n=2", admin=False)
    call("GET", "/admin/residents/sample?n=2", admin=True, headers={"Authorization": "Bearer nope"})
    rid = res[0]["id_number"]
    call("POST", "/v1/residents/lookup", {"id_number": rid})
    call("POST", "/v1/residents/lookup", {"ss_number": rid})
    call("POST", "/v1/residents/lookup", {"id_number": "123"})
    call("POST", "/v1/residents/lookup", {})
    call("POST", "/v1/residents/lookup", {"id_number": "110101199003071234"})
    call("POST", "/v1/residents/status", {"id_number": rid})
    call("POST", "/v1/residents/lookup", raw=b"{not json")
    call("POST", "/v1/enquiries/1", {"id_number": rid})
    call("POST", "/v1/enquiries/3", {"page": 2, "page_size": 5})
    call("POST", "/v1/enquiries/99", {"id_number": rid})
    call("POST", "/v1/enquiries/1", {"id_number": rid, "page": 0})
    for n in range(1, 41):
        call("POST", f"/v1/enquiries/{n}", {"id_number": res[1]["id_number"], "page_size": 3})
    call("POST", "/v1/recommendations/jobs", {"id_number": rid, "kind": "gig"})
    call("POST", "/v1/recommendations/jobs", {"id_number": rid})
    call("POST", "/v1/recommendations/seekers", {"id_number": rid})
    photo = call("POST", "/v1/photos", raw=b"\xff\xd8\xff" + b"x" * 100, ctype="image/jpeg").json()
    call("POST", "/v1/photos", raw=b"abc", ctype="text/plain")
    call("POST", "/v1/photos", raw=b"\x00" * (5 * 1024 * 1024 + 1), ctype="image/png")
    for r in res:
        call("POST", "/v1/applications/22", {"id_number": r["id_number"], "fields": {"level": "1", "occupation": "电工"}},
             headers={"Idempotency-Key": "key-" + r["id_number"][-6:]})
    call("POST", "/v1/applications/22", {"id_number": rid, "fields": {"level": "1", "occupation": "电工"}}, headers={"Idempotency-Key": "key-" + rid[-6:]})
    call("POST", "/v1/applications/22", {"id_number": rid, "fields": {"level": "2"}}, headers={"Idempotency-Key": "key-" + rid[-6:]})
    call("POST", "/v1/applications/22", {"id_number": rid}, headers={"Idempotency-Key": "short"})
    call("POST", "/v1/applications/22", {"id_number": rid})
    call("POST", "/v1/applications/1", {"id_number": rid}, headers={"Idempotency-Key": "abcdefgh1"})
    call("POST", "/v1/applications/21", {"id_number": rid, "photo_id": "Pnope"}, headers={"Idempotency-Key": "abcdefgh2"})
    call("POST", "/v1/applications/21", {"id_number": rid, "photo_id": photo["photo_id"]}, headers={"Idempotency-Key": "abcdefgh3"})
    for n in range(15, 41):
        call("POST", f"/v1/applications/{n}", {"id_number": res[2]["id_number"], "fields": {}}, headers={"Idempotency-Key": f"app-key-{n}"})
    subs = call("GET", "/admin/submissions", admin=True).json()["submissions"]
    for s in subs:
        call("GET", f"/v1/applications/{s['acceptance_no']}")
    call("GET", "/v1/applications/SX0000")
    call("POST", "/admin/clock", {"offset_days": 3}, admin=True, sign=False)
    for s in subs:
        call("GET", f"/v1/applications/{s['acceptance_no']}")
    call("POST", "/admin/clock", {"offset_days": 30}, admin=True, sign=False)
    for s in subs:
        call("GET", f"/v1/applications/{s['acceptance_no']}")
    call("POST", "/v1/faults", {"category": "guidance", "description": "打印机卡纸"}, headers={"Idempotency-Key": "fault-key-1"})
    call("POST", "/v1/faults", {"category": "guidance", "description": "打印机卡纸"}, headers={"Idempotency-Key": "fault-key-1"})
    call("POST", "/v1/faults", {"category": "system", "description": "x", "contact": "138"}, headers={"Idempotency-Key": "fault-key-2"})
    call("POST", "/v1/faults", {"category": "bogus", "description": ""}, headers={"Idempotency-Key": "fault-key-3"})
    call("GET", "/v1/faults/replies")
    call("GET", "/admin/stats", admin=True)
    call("POST", "/admin/faults/NOPE/reply", {"text_zh": "x"}, admin=True)
    tickets = [o for o in out if o["req"][1] == "/v1/faults" and o["status"] == 201]
    fno = json.loads(tickets[0]["body"])["fault_no"]
    call("POST", f"/admin/faults/{fno}/reply", {"text_zh": "已处理"}, admin=True)
    call("GET", f"/v1/faults/replies?fault_no={fno}")
    call("POST", "/v1/heartbeat", {"status": {"outbox": 2}})
    call("GET", "/admin/stats", admin=True)
    call("GET", "/admin/staff", admin=True)
    staff = call("GET", "/admin/staff", admin=True).json()["staff"]
    qr = call("POST", "/admin/essc/issue", {"id_number": rid}, admin=True).json()
    call("POST", "/v1/essc/verify", {"qr_text": qr["qr_text"]})
    call("POST", "/v1/essc/verify", {"qr_text": qr["qr_text"]})
    call("POST", "/v1/essc/verify", {"qr_text": "garbage"})
    call("POST", "/v1/essc/verify", {"qr_text": ""})
    for s in staff[:6]:
        q = call("POST", "/admin/essc/issue", {"username": s["username"]}, admin=True).json()
        call("POST", "/v1/essc/verify", {"qr_text": q["qr_text"]})
    call("POST", "/admin/essc/issue", {"username": "nobody"}, admin=True)
    call("GET", "/admin/fault-injection", admin=True)
    call("POST", "/admin/fault-injection", {"latency_ms": 5, "bogus": 1}, admin=True)
    call("GET", "/v1/items")
    call("POST", "/admin/fault-injection", {"latency_ms": 0, "error_rate": 1.0}, admin=True)
    call("GET", "/v1/items")
    call("GET", "/v1/health", sign=False)
    call("POST", "/admin/fault-injection", {"error_rate": 0, "outage": True}, admin=True)
    try:
        call("GET", "/v1/items")
    except httpx.HTTPError as e:
        out.append({"req": ["GET", "/v1/items"], "error": type(e).__name__})
    call("POST", "/admin/fault-injection", {"outage": False}, admin=True)
    call("GET", "/openapi.json", sign=False)
    call("GET", "/docs", sign=False)
    call("GET", "/nope", sign=False)
    call("GET", "/admin/stats", admin=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp, "journal.jsonl")
        h = start_simulator("127.0.0.1", 0, 42, device_secret=SECRET, state_path=str(journal),
                            extra_args=["--today", "2026-06-15"])
        try:
            trace(h, out)
        finally:
            h.stop()
        out.append({"journal": TS.sub("<ts>", journal.read_text(encoding="utf-8"))})
    Path(argv[0]).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(out)} exchanges written to {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
