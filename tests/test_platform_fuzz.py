"""Property test: whatever a (signed) client sends, the simulator answers as the contract says, never 5xx."""

from __future__ import annotations

import collections
import json
import time
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import ROOT
from kiosk.commands.platform import CONTRACT_PATH
from kiosk.platform import signing
from tests.openapi_contract import load, response_errors
from tests.platform_support import DEVICE, SECRET, sample, sim  # noqa: F401

API = load(json.loads((ROOT / CONTRACT_PATH).read_text(encoding="utf-8")))
scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
FIELD_NAMES = ["id_number", "ss_number", "qr_text", "params", "page", "page_size", "fields", "photo_id", "kind",
               "category", "description", "contact", "status", "level", "occupation", "certificate_date", "action",
               "involuntary", "base_ratio", "job_title", "phone"]


def bodies(known_ids: list[str]):
    ids = st.sampled_from(known_ids) | st.text(max_size=20)
    field = st.sampled_from(FIELD_NAMES) | st.text(max_size=8)
    inner = st.dictionaries(field, values | ids | st.sampled_from(["初级", "中级", "高级", "temp_loss", "unlock", "2026-06-01"]), max_size=6)
    return st.fixed_dictionaries({}, optional={"id_number": ids, "fields": inner, "params": inner, "page": st.integers(-2, 5),
                                               "page_size": st.integers(-1, 200), "qr_text": st.text(max_size=40),
                                               "kind": st.sampled_from(["fixed", "gig", "x"]), "status": inner,
                                               "category": st.sampled_from(["system", "function", "guidance", "other"]),
                                               "description": st.text(max_size=30)}) | values


SEEN: list[int] = []
PATHS = st.sampled_from(["/v1/residents/lookup", "/v1/essc/verify", "/v1/recommendations/jobs", "/v1/recommendations/seekers",
                         "/v1/faults", "/v1/heartbeat"]) | st.integers(-3, 45).map(lambda n: f"/v1/enquiries/{n}") \
    | st.integers(-3, 45).map(lambda n: f"/v1/applications/{n}")


@pytest.fixture(scope="module")
def known_ids(sim):
    return [p["id_number"] for p in sample(sim.url, 30)]


def test_random_requests_get_documented_answers(sim, known_ids):
    client = httpx.Client(base_url=sim.url, timeout=10)

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(path=PATHS, body=bodies(known_ids))
    def check(path, body):
        raw = json.dumps(body, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex, signing.HEADER_DEVICE: DEVICE,
                   signing.HEADER_TIMESTAMP: ts, signing.HEADER_SIGNATURE: signing.sign(SECRET, "POST", path, ts, DEVICE, raw)}
        r = client.post(path, content=raw, headers=headers)
        assert r.status_code < 500, (path, body, r.text)
        SEEN.append(r.status_code)
        # a documented status with a body of its documented shape (openapi-core)
        assert response_errors(API, "POST", path, r.status_code, r.content, request_body=raw, headers=headers) == [], \
            (path, r.status_code, r.text)

    try:
        check()
    finally:
        client.close()
    print(sorted(collections.Counter(SEEN).items()))
    assert {200, 400} <= set(SEEN) and len(set(SEEN)) >= 4  # the generator reached several kinds of answer
