"""Fuzz targets for every parser that takes bytes from outside the kiosk (issue 12).

Property, for each parser: any input either parses or raises the project's own
error (a ``KioskError`` subclass, or the module's documented error), never any
other exception and never a hang (inputs are size-bounded; a hang fails the
per-example wall-clock check below).

Not repeated here: platform *requests* against the simulator
(tests/test_platform_fuzz.py), form-field values and catalogs
(tests/test_hostile_input.py).

CI runs the "ci" profile (about 200 examples per target). The long run is
``HYPOTHESIS_PROFILE=long`` (20,000 per target), see docs/faults.md.
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.core import config as kconfig
from kiosk.core.errors import ConfigError, KioskError, PlatformError
from kiosk.hardware import escpos_commands as esc
from kiosk.hardware import escpos_render
from kiosk.hardware import idcard_protocol as idp
from kiosk.hardware import idcard_text
from kiosk.hardware import sscard_record, sscard_tlv
from kiosk.hardware.qr_scanner import LineSplitter, decode_line
from kiosk.hardware.sscard_errors import SsCardDataError, SsCardError

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=20_000, deadline=None,
                          suppress_health_check=list(HealthCheck))
# Applied per test (not load_profile): other test modules keep their own settings.
fuzz = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
SLOW_S = 5.0   # no single parse of a bounded input may take this long (a hang)


def _only(errors: tuple[type[BaseException], ...], fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    except errors:
        return None
    finally:
        assert time.monotonic() - started < SLOW_S, f"{fn.__name__} took {time.monotonic() - started:.1f}s"


# ------------------------------------------------------------------ ID card (SAM frames, text block)
def _framed(body: bytes) -> bytes:
    return idp.encode_frame(body) if 0 < len(body) <= idp.MAX_LENGTH else idp.PREAMBLE + body


frames = st.binary(max_size=600) | st.binary(min_size=1, max_size=600).map(_framed) \
    | st.tuples(st.binary(max_size=40), st.binary(min_size=1, max_size=300)).map(lambda t: idp.PREAMBLE + t[0] + t[1])


@fuzz
@given(raw=frames)
def test_id_frame_decoder_parses_or_raises_frame_errors(raw):
    frame = _only((idp.IdCardError,), idp.decode_frame, raw)
    if frame is not None:
        assert frame.encode() == raw[:len(frame.encode())]
        _only((idp.IdCardError,), idp.check_status, frame)
        _only((idp.IdCardError,), idp.parse_sam_id, frame)


@fuzz
@given(chunks=st.lists(frames, max_size=6), cut=st.integers(1, 64))
def test_id_stream_decoder_never_raises_and_keeps_bounded(chunks, cut):
    dec = idp.FrameDecoder()
    stream = b"".join(chunks)
    for i in range(0, len(stream), cut):
        started = time.monotonic()
        out = dec.feed(stream[i:i + cut])
        assert time.monotonic() - started < SLOW_S
        assert all(isinstance(x, (idp.Frame, idp.FrameError)) for x in out)
    assert dec.pending <= idp.HEADER_LEN + idp.MAX_LENGTH


@fuzz
@given(data=st.binary(max_size=64) | st.binary(min_size=1280, max_size=1300), fp=st.booleans())
@example(data=(256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + bytes(1280), fp=False)
def test_id_read_data_parses_or_raises(data, fp):
    _only((idp.IdCardError,), idp.parse_read_data, data, fp)


ucs2_text = st.text(st.characters(codec="utf-16", exclude_categories=("Cs",)), max_size=128) \
    .map(lambda s: s.encode("utf-16-le")[:256].ljust(256, b"\x00"))


@fuzz
@given(block=st.binary(min_size=256, max_size=256) | ucs2_text | st.binary(max_size=300))
def test_id_text_block_parses_or_raises_card_data_errors(block):
    rec = _only((idp.IdCardError,), idcard_text.parse_text, block)
    if rec is not None:
        assert "*" in repr(rec) or rec.id_number not in repr(rec)


# ------------------------------------------------------------------ social-security card (APDU data, TLV)
def _tlv(tag: int, value: bytes) -> bytes:
    return sscard_tlv.encode_tlv(tag, value)


tlv_bytes = st.binary(max_size=300) | st.lists(
    st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=4
).map(lambda items: b"".join(bytes([t]) + bytes([len(v)]) + v for t, v in items))


@fuzz
@given(data=tlv_bytes, tag=st.integers(0, 255))
@example(data=b"\x81\x82\xff\xff", tag=0x81)
def test_ssc_tlv_parses_or_raises_card_data_errors(data, tag):
    _only((SsCardDataError,), sscard_tlv.parse_tlvs, data)
    _only((SsCardDataError,), sscard_tlv.parse_record, data, tag)
    for fn in (sscard_tlv.decode_gbk, sscard_tlv.decode_an, sscard_tlv.decode_bcd, sscard_tlv.decode_date,
               sscard_tlv.decode_optional_date):
        _only((SsCardDataError,), fn, data)


def _good_records() -> tuple[list[bytes], list[bytes]]:
    rec = sscard_record.make_record("110101199003071233", "张三")
    return sscard_record.encode_records(rec)


GOOD05, GOOD06 = _good_records()


@fuzz
@given(i=st.integers(0, len(GOOD05) + len(GOOD06) - 1), value=st.binary(max_size=80), raw=st.booleans(),
       extra=st.integers(-1, 1))
def test_ssc_records_parse_or_raise_card_errors(i, value, raw, extra):
    ef05, ef06 = list(GOOD05), list(GOOD06)
    target, j = (ef05, i) if i < len(ef05) else (ef06, i - len(ef05))
    tag = target[j][0]
    target[j] = value if raw else _tlv(tag, value[:127])
    if extra > 0:
        ef06.append(value)
    elif extra < 0:
        ef05.pop()
    rec = _only((SsCardError,), sscard_record.parse_records, ef05, ef06)
    if rec is not None:
        assert rec.ssn not in repr(rec)


# ------------------------------------------------------------------ QR texts (scanner bytes, e-SSC codes)
@fuzz
@given(stream=st.binary(max_size=600), max_length=st.integers(1, 64))
def test_qr_scanner_lines_decode_to_text(stream, max_length):
    lines = LineSplitter(max_length=max_length).feed(stream)
    for line in lines:
        assert 0 < len(line) <= max_length
        assert isinstance(decode_line(line), str)


def _essc_issuer():
    from kiosk.platform.simulator.essc import EsscIssuer
    return EsscIssuer(b"k" * 32)


ISSUER = _essc_issuer()
GOOD_QR = ISSUER.issue("resident", "110101199003071233", time.time())[0]


@fuzz
@given(text=st.text(max_size=200) | st.text(max_size=40).map(lambda s: GOOD_QR[:len(GOOD_QR) // 2] + s)
       | st.sampled_from(GOOD_QR.split(".")).flatmap(lambda p: st.text(max_size=30).map(lambda s: f"ESSC1.{p}{s}.{p}")))
@example(text="ESSC1.e30.")
@example(text="ESSC1..\x80")   # was a TypeError from hmac.compare_digest
def test_essc_qr_text_verifies_or_raises_qr_error(text):
    from kiosk.platform.simulator.essc import QrError
    _only((QrError,), ISSUER.verify, text, time.time())


# ------------------------------------------------------------------ ESC/POS jobs (kiosk receipt render)
ESC_PIECES = st.sampled_from([
    esc.INIT, b"\x1ba\x01", b"\x1bE\x01", b"\x1d!\x11", b"\x1bd\x03", b"\n",
    b"\x1c&", b"\x1c.", b"\x1dVA\x00", b"\x1d(k\x03\x001C\x06", b"\x1d(k\x03\x001Q0",
]) | st.binary(max_size=30) | st.binary(max_size=30).map(lambda d: b"\x1d(k" + (len(d) + 3).to_bytes(2, "little") + b"1P0" + d) \
    | st.tuples(st.integers(0, 8), st.integers(0, 40), st.binary(max_size=320)).map(
        lambda t: b"\x1dv0\x00" + t[0].to_bytes(2, "little") + t[1].to_bytes(2, "little") + t[2])


@fuzz
@given(job=st.lists(ESC_PIECES, max_size=12).map(b"".join))
@example(job=b"\x1dv0\x00\x00\x00\x05\x00")             # zero-width raster
@example(job=b"\x1dv0\x00\xff\xff\xff\xff")             # 65535 x 65535 raster announced, nothing sent
@example(job=b"\x1bd\xff" * 400)                        # feeds: bounded output
def test_escpos_job_decodes_or_raises_job_rejected(job):
    elements = _only((escpos_render.JobRejected,), escpos_render.decode, job)
    if elements is not None:
        assert len(elements) <= escpos_render.MAX_ELEMENTS
        escpos_render.decoded_lines(elements)


# ------------------------------------------------------------------ config TOML, answers files
toml_texts = st.text(max_size=400) | st.lists(st.sampled_from([
    "[platform]\n", "[printer]\n", "[kiosk]\n", "mode = \"demo\"\n", "url = \"http://127.0.0.1:1\"\n",
    "poll_interval = -1\n", "device_id = \"k\\u0000\"\n", "x = [[[[[[[[1]]]]]]]]\n", "a.b.c = 1\n", "[[a]]\n",
    "schema_version = 99\n", "device_secret = \"\"\n", "= =\n", "\"\\ud800\" = 1\n",
]), max_size=8).map("".join)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@fuzz
@given(text=toml_texts, raw=st.binary(max_size=40))
@example(text="a = " + "[" * 2000 + "]" * 2000, raw=b"")
def test_config_file_loads_or_raises_config_error(scratch, text, raw):
    path = scratch / "kiosk.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass") + raw)
    _only((ConfigError,), kconfig.load, path, env={})


answer_texts = st.text(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10).map(lambda v: json.dumps(v, ensure_ascii=False))


@fuzz
@given(text=answer_texts, suffix=st.sampled_from([".json", ".toml"]), raw=st.binary(max_size=20))
@example(text="[" * 5000, suffix=".json", raw=b"")   # was a RecursionError traceback
def test_answers_file_loads_or_raises_config_error(scratch, text, suffix, raw):
    from kiosk.commands.flow import load_answers
    path = scratch / f"answers{suffix}"
    path.write_bytes(text.encode("utf-8", "surrogatepass") + raw)
    data = _only((ConfigError,), load_answers, str(path))
    assert data is None or isinstance(data, dict)


# ------------------------------------------------------------------ platform JSON answers
class _Canned(BaseHTTPRequestHandler):
    status, body = 200, b"{}"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(_Canned.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(_Canned.body)))
        self.end_headers()
        self.wfile.write(_Canned.body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def canned():
    from kiosk.platform.http_client import HttpPlatform
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = HttpPlatform(f"http://127.0.0.1:{server.server_port}", "K-FUZZ", "s" * 32, connect_timeout=2,
                          read_timeout=2, max_attempts=1)
    yield client
    client.close()
    server.shutdown()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["2026-01-01", "2026-13-40", "staff", "resident", "ACC-1", "110101199003071233"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from([
        "name", "id_number", "ss_number", "kind", "roles", "account_id", "rows", "columns", "total", "page",
        "acceptance_no", "status", "events", "photo_id", "sha256", "size", "fault_no", "routed_to_zh", "reply_due",
        "server_time", "ok", "message", "error", "code", "message_zh", "items", "replies", "certificates",
    ]) | st.text(max_size=6), inner, max_size=6), max_leaves=14)
CALLS = {
    "lookup": lambda p: p.lookup_resident("110101199003071233"),
    "status": lambda p: p.resident_status("110101199003071233"),
    "essc": lambda p: p.verify_essc("ESSC1.a.b"),
    "enquiry": lambda p: p.enquiry(1, "110101199003071233"),
    "submit": lambda p: p.submit(1, "110101199003071233", {}, "k1"),
    "track": lambda p: p.track("ACC-1"),
    "photo": lambda p: p.upload_photo(b"\xff\xd8\xff"),
    "jobs": lambda p: p.recommend_jobs("110101199003071233"),
    "fault": lambda p: p.report_fault("system", "x", "k2"),
    "replies": lambda p: p.fault_replies(),
    "heartbeat": lambda p: p.heartbeat({}),
}


@fuzz
@given(call=st.sampled_from(sorted(CALLS)), status=st.sampled_from([200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 503]),
       body=json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()) | st.binary(max_size=60))
@example(call="replies", status=200, body=b'{"replies": [1]}')
def test_platform_answers_parse_or_raise_platform_errors(canned, call, status, body):
    _Canned.status, _Canned.body = status, body
    _only((PlatformError,), CALLS[call], canned)


def test_all_fuzz_errors_are_kiosk_errors():
    """The errors the targets accept are the project's own (shown as Chinese, logged in English)."""
    from kiosk.platform.simulator.essc import QrError
    for err in (idp.IdCardError, SsCardError, ConfigError, PlatformError, escpos_render.JobRejected):
        assert issubclass(err, KioskError), err
    assert QrError.__module__.startswith("kiosk.platform.simulator")   # the simulator's documented error
