"""The ASGI layers in front of the /v1 routes: fault injection (outermost) and the device signature.

Both are pure ASGI rather than FastAPI middleware: fault injection must be able
to drop a connection half-way, and the signature is checked on the raw body
before anything parses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.platform import signing
from kiosk.platform.simulator.state import SimState

_DROP_MSG = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _DROP_MSG not in record.getMessage()


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    async def _drop(self, send: Send) -> None:
        # Start an answer and stop half-way: uvicorn closes the connection.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"400")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"dropped', "more_body": True})
        self.state.counts["dropped"] += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            return await self.app(scope, receive, send)
        f, rng = self.state.faults, self.state.fault_rng
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.outage:
            return await self._drop(send)
        if f.error_rate and rng.random() < f.error_rate:
            self.state.counts["injected_errors"] += 1
            status = rng.choice([500, 502, 503])
            body = json.dumps(
                {"error": {"code": "injected", "message": f"injected {status}", "message_zh": "服务平台繁忙"}}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if f.drop_rate and rng.random() < f.drop_rate:
            if rng.random() < 0.5:
                return await self._drop(send)  # lost before the platform saw it

            async def swallow(message: Message) -> None:  # the platform did the work; the answer is lost
                pass

            await self.app(scope, receive, swallow)
            return await self._drop(send)
        return await self.app(scope, receive, send)


class AuthMiddleware:
    """Verify the device signature (kiosk.platform.signing) before any parsing of the request."""

    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/") or scope["path"] == "/v1/health":
            return await self.app(scope, receive, send)
        state = self.state
        state.counts["requests"] += 1
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        device = headers.get(signing.HEADER_DEVICE.lower(), "")
        ts = headers.get(signing.HEADER_TIMESTAMP.lower(), "")
        sig = headers.get(signing.HEADER_SIGNATURE.lower(), "")
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        error = None
        if not device or not ts or not sig:
            error = ("unsigned", "missing device signature headers", "本机未通过服务平台认证。")
        elif not signing.verify(state.device_secret, sig, scope["method"], target, ts, device, body):
            error = ("bad_signature", f"bad signature from device {device}", "本机未通过服务平台认证。")
        else:
            try:
                skew = abs(time.time() - float(ts))
            except ValueError:
                skew = float("inf")
            if skew > signing.MAX_SKEW_S:
                error = (
                    "stale_signature",
                    f"timestamp off by {skew:.0f}s",
                    "本机时钟与服务平台不一致，请联系技术人员校准时间。",
                )
        if error is not None:
            state.counts["auth_rejected"] += 1
            payload = json.dumps(
                {"error": dict(zip(("code", "message", "message_zh"), error, strict=False))}, ensure_ascii=False
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        scope.setdefault("state", {})["device_id"] = device
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def device_of(request: Request) -> str:
    """The device id AuthMiddleware verified for this request."""
    return str(request.scope["state"]["device_id"])
