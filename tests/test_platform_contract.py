"""The contract: the committed OpenAPI document is current, and real traffic conforms to it both ways."""

from __future__ import annotations

import json
import uuid

import pytest

from kiosk import ROOT
from kiosk.commands.platform import CONTRACT_PATH, contract_text
from kiosk.platform.adapter import AuthError, Refused
from kiosk.platform.http_client import HttpPlatform
from tests.openapi_contract import find_template, load, request_errors, response_errors
from tests.platform_support import DEVICE, SECRET, admin, sample, sim  # noqa: F401


def test_committed_contract_is_the_generated_one():
    committed = (ROOT / CONTRACT_PATH).read_text(encoding="utf-8")
    assert committed == contract_text(), "run scripts/export_platform_openapi.py, review the diff and commit it"
    doc = json.loads(committed)
    assert doc["info"]["version"] and all(p.startswith("/v1/") for p in doc["paths"])


class Recording(HttpPlatform):
    """The real client, recording every exchange on the wire."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.exchanges: list[tuple[str, str, dict, dict, bytes, int, bytes]] = []

    def _send_once(self, method, path, body, headers, params):
        status, raw, request = super()._send_once(method, path, body, headers, params)
        self.exchanges.append((method, request.url.path, dict(request.headers), dict(request.url.params), body,
                               status, raw))
        return status, raw, request


def exercise(p: Recording, url: str) -> None:
    people = sample(url, 200)
    p.items()
    for person in people[:3]:
        p.lookup_resident(person["id_number"])
    p.lookup_resident(ss_number=people[0]["id_number"])
    for person in people[:20]:
        p.resident_status(person["id_number"])
    for n in (3, 6, 9, 12, 14, 13, 15, 17, 18, 19, 25, 26, 27, 33, 36, 39):
        who = next((x for x in people if n in x["has_records_for"]), people[0])
        p.enquiry(n, who["id_number"], {"keyword": ""} if n == 3 else None, page_size=5)
    with pytest.raises(Refused):
        p.enquiry(25, next(x for x in people if 25 not in x["has_records_for"])["id_number"])  # 404 with body
    seeker = next(x for x in people if "fixed_seeker" in x["registrations"])
    p.recommend_jobs(seeker["id_number"], "fixed")
    with pytest.raises(Refused):
        p.recommend_seekers(next(x for x in people if "gig_employer" not in x["registrations"])["id_number"])
    q = next(x for x in people if 1 in x["qualifies"])
    key = uuid.uuid4().hex
    acc = p.submit(1, q["id_number"], {"desired_job": "司机", "full_time": True, "salary": 3000}, key)
    p.submit(1, q["id_number"], {"desired_job": "司机", "full_time": True, "salary": 3000}, key)
    with pytest.raises(Refused):
        p.submit(34, next(x for x in people if x["age"] < 60)["id_number"], {}, uuid.uuid4().hex)  # 422
    p.track(acc.acceptance_no)
    photo = p.upload_photo(b"\x89PNG fake", "image/png")
    cert = next(x for x in people if 21 in x["qualifies"])
    p.submit(21, cert["id_number"], {}, uuid.uuid4().hex, photo_id=photo.photo_id)
    ticket = p.report_fault("system", "触摸屏无响应", uuid.uuid4().hex, contact="技术员")
    p.fault_replies()
    p.fault_replies(ticket.fault_no)
    p.heartbeat({"outbox_pending": 0, "printer": "ok", "uptime_s": 12.5, "note": None})
    qr = admin(url, "POST", "/admin/essc/issue", json={"id_number": people[0]["id_number"]})["qr_text"]
    p.verify_essc(qr)
    with pytest.raises(Refused):
        p.verify_essc(qr)  # 410


def test_traffic_both_ways_conforms_to_the_contract(sim):
    doc = json.loads((ROOT / CONTRACT_PATH).read_text(encoding="utf-8"))
    p = Recording(sim.url, DEVICE, SECRET, 1.0, 5.0)
    bad = Recording(sim.url, DEVICE, "wrong-secret", 1.0, 5.0)
    try:
        exercise(p, sim.url)
        with pytest.raises(AuthError):
            bad.heartbeat({})
    finally:
        p.close()
        bad.close()
    api = load(doc)  # openapi-core checks the document itself here
    problems, covered = [], set()
    for method, path, headers, query, body, status, raw in p.exchanges + bad.exchanges:
        template = find_template(doc, method, path)
        assert template, f"{method} {path} is not in the contract"
        covered.add((method, template))
        ctype = headers.get("content-type", "application/json")
        problems += [f"request {method} {path}: {e}"
                     for e in request_errors(api, method, path, body, content_type=ctype, headers=headers, query=query)]
        problems += [f"response {status} {method} {path}: {e}"
                     for e in response_errors(api, method, path, status, raw, request_body=body,
                                              request_content_type=ctype, headers=headers, query=query)]
    assert problems == []
    every = {(m.upper(), t) for t, ops in doc["paths"].items() for m in ops if t != "/v1/health"}
    assert every - covered == set()


def test_validator_catches_violations():
    """The same checks on one 201 answer to a submission: a good one passes, each fault is named."""
    api = load(json.loads((ROOT / CONTRACT_PATH).read_text(encoding="utf-8")))
    headers = {"Idempotency-Key": "k" * 16}
    good = {"acceptance_no": "SX1", "item_no": 1, "status": "accepted", "status_zh": "已受理",
            "expected_completion": "2026-06-17", "accepted_at": "t", "message_zh": "m"}

    def check(answer: dict, status: int = 201) -> list[str]:
        return response_errors(api, "POST", "/v1/applications/1", status, json.dumps(answer).encode(),
                               request_body=b'{"id_number": "x", "fields": {}}', headers=headers)

    assert check(good) == []
    assert "item_no" in " ".join(check({**good, "item_no": "1"}))
    assert "lost" in " ".join(check({**good, "status": "lost"}))
    assert "soon" in " ".join(check({**good, "expected_completion": "soon"}))
    assert "acceptance_no" in " ".join(check({k: v for k, v in good.items() if k != "acceptance_no"}))
    assert check(good, status=418)  # a status the contract does not list
    # and on the request side: a submission without its Idempotency-Key
    assert request_errors(api, "POST", "/v1/applications/1", b'{"id_number": "x", "fields": {}}')
