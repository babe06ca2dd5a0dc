"""The HTTP client against a misbehaving server: every failure is a typed error, never a hang."""

from __future__ import annotations

import json
import socketserver
import ssl
import subprocess
import threading
import time

import pytest

from kiosk.core.errors import PlatformError
from kiosk.platform.adapter import AuthError, BadResponse, Refused, Timeout, Unreachable
from kiosk.platform.http_client import HttpPlatform
from tests.platform_support import free_port

OK_ENQUIRY = {"item_no": 12, "title_zh": "就业政策法规查询", "columns": [{"key": "t", "label_zh": "标题"}],
              "rows": [{"t": "x"}], "total": 1, "page": 1, "page_size": 20}


def response(status: int, body: bytes = b"", ctype: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return head + body


class Script:
    """What the fake platform answers, one entry per request (the last one repeats)."""

    def __init__(self) -> None:
        self.modes: list = []
        self.requests: list[bytes] = []


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        script: Script = self.server.script  # type: ignore[attr-defined]
        sock = self.request
        while True:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
            while len(body) < length:
                body += sock.recv(65536)
            script.requests.append(head + b"\r\n\r\n" + body)
            mode = script.modes.pop(0) if len(script.modes) > 1 else script.modes[0]
            try:
                if isinstance(mode, bytes):
                    sock.sendall(mode)
                elif mode == "close":
                    return
                elif mode == "silent":
                    time.sleep(10)
                    return
                elif mode in ("slow_headers", "slow_body"):
                    prefix = b"HTTP/1.1 200 OK\r\n" if mode == "slow_headers" else response(200, b"x" * 1000)[:-1000]
                    sock.sendall(prefix)
                    for _ in range(100):  # one byte every 0.1 s: each read succeeds, the whole never ends
                        time.sleep(0.1)
                        sock.sendall(b"X-Slow: y\r\n" if mode == "slow_headers" else b" ")
                    return
            except OSError:
                return


@pytest.fixture()
def fake():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.script = Script()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server, **kw) -> HttpPlatform:
    kw.setdefault("connect_timeout", 0.5)
    kw.setdefault("read_timeout", 1.0)
    kw.setdefault("backoff_base", 0.01)
    return HttpPlatform(f"http://127.0.0.1:{server.server_address[1]}", "SX-T", "secret", **kw)


CASES = [
    (response(200, b"{not json"), BadResponse, "malformed JSON"),
    (response(200, json.dumps({**OK_ENQUIRY, "total": "1"}).encode()), BadResponse, "'total' has type str"),
    (response(200, json.dumps({**OK_ENQUIRY, "rows": "x"}).encode()), BadResponse, "'rows' has type str"),
    (response(200, b"[]"), BadResponse, "expected an object"),
    (response(404, b"<html>Not Found</html>", "text/html"), BadResponse, "HTTP 404 without error body"),
    (response(404), BadResponse, "HTTP 404 without error body"),
    (response(422, json.dumps({"error": {"code": "not_eligible", "message": "no", "message_zh": "不符合条件。"}}).encode()),
     Refused, "not_eligible"),
    (response(400, b'{"error": {"code": "invalid_request", "message": "bad", "message_zh": "x"}}'), BadResponse, "HTTP 400 invalid_request"),
    (response(401), AuthError, "HTTP 401"),
    (response(403, b"forbidden", "text/plain"), AuthError, "HTTP 403"),
    (response(500, b"oops", "text/plain"), BadResponse, "HTTP 500"),
    (response(503), Unreachable, "HTTP 503"),
    ("close", Unreachable, "connection failed"),
]


@pytest.mark.parametrize("answer,error,log_text", CASES, ids=[c[2] for c in CASES])
def test_bad_answers_become_typed_errors(fake, answer, error, log_text):
    fake.script.modes = [answer]
    with client_for(fake, max_attempts=2) as p:
        with pytest.raises(error) as exc:
            p.enquiry(12, None)
    assert isinstance(exc.value, PlatformError)
    assert log_text in str(exc.value)
    assert exc.value.message_zh  # a Chinese sentence for the screen
    retried = error in (Unreachable,) or (error is BadResponse and "500" in log_text)
    assert len(fake.script.requests) == (2 if retried else 1)


@pytest.mark.parametrize("mode", ["slow_headers", "slow_body", "silent"])
def test_slow_answers_end_in_timeout_not_a_hang(fake, mode):
    fake.script.modes = [mode]
    with client_for(fake, max_attempts=1, connect_timeout=0.3, read_timeout=0.5) as p:
        started = time.monotonic()
        with pytest.raises(Timeout) as exc:
            p.enquiry(12, None)
        elapsed = time.monotonic() - started
    assert "超时" in exc.value.message_zh
    assert elapsed < 3 * (p.connect_timeout + p.read_timeout)  # bounded, whatever the server does


def test_retry_then_success_for_idempotent_calls(fake):
    fake.script.modes = [response(503), response(502), response(200, json.dumps(OK_ENQUIRY).encode())]
    with client_for(fake, max_attempts=3) as p:
        assert p.enquiry(12, None).rows == [{"t": "x"}]
    assert len(fake.script.requests) == 3


def test_submission_carries_key_signature_and_is_retried_with_the_same_key(fake):
    acc = {"acceptance_no": "SX1", "item_no": 1, "status": "completed", "status_zh": "已办结",
           "expected_completion": "2026-06-15", "accepted_at": "t", "message_zh": "m"}
    fake.script.modes = ["close", response(201, json.dumps(acc).encode())]
    with client_for(fake, max_attempts=3) as p:
        assert p.submit(1, "140121199310040016", {"a": 1}, "key-abcdef123").acceptance_no == "SX1"
    heads = [r.split(b"\r\n\r\n")[0].lower() for r in fake.script.requests]
    assert len(heads) == 2 and all(b"idempotency-key: key-abcdef123" in h for h in heads)
    assert all(b"x-signature: " in h and b"x-timestamp: " in h and b"x-device-id: sx-t" in h for h in heads)


def test_essc_verification_is_never_resent(fake):
    fake.script.modes = [response(503)]
    with client_for(fake, max_attempts=3) as p:
        with pytest.raises(Unreachable):
            p.verify_essc("ESSC1.a.b")
    assert len(fake.script.requests) == 1


def test_connection_refused_is_unreachable_with_advice():
    port = free_port()
    with HttpPlatform(f"http://127.0.0.1:{port}", "SX-T", "s", 0.5, 1.0, backoff_base=0.01) as p:
        with pytest.raises(Unreachable) as exc:
            p.lookup_resident("140121199310040016")
    assert "无法连接服务平台" in exc.value.message_zh and "柜台" in exc.value.message_zh
    assert "140121199310040016" not in str(exc.value)  # never a full ID number in a log line


def test_tls_is_verified(tmp_path, fake):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.script = Script()  # type: ignore[attr-defined]
    server.script.modes = [response(200, json.dumps(OK_ENQUIRY).encode())]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with HttpPlatform(url, "SX-T", "s", 1.0, 2.0, max_attempts=1) as p:
            with pytest.raises(Unreachable) as exc:  # self-signed: refused by certificate verification
                p.enquiry(12, None)
            assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value)
        with HttpPlatform(url, "SX-T", "s", 1.0, 2.0, ca_bundle=str(cert)) as p:  # the province's own CA
            assert p.enquiry(12, None).total == 1
    finally:
        server.shutdown()
        server.server_close()
