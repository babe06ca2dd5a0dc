"""Device request signature shared by the HTTP client and the simulator.

The kiosk signs every request with its per-device secret:

    X-Device-Id: <device id>
    X-Timestamp: <unix seconds>
    X-Signature: hex(HMAC-SHA256(secret, canonical))

    canonical = METHOD "\\n" PATH_WITH_QUERY "\\n" TIMESTAMP "\\n" DEVICE_ID "\\n" hex(SHA256(body))

PATH_WITH_QUERY is the request target exactly as sent (percent-encoded, with
``?query`` when present). The platform rejects a signature that does not match
(``bad_signature``) or whose timestamp is more than ``MAX_SKEW_S`` away from
its clock (``stale_signature``).
"""

from __future__ import annotations

import hashlib
import hmac

MAX_SKEW_S = 300
HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_SIGNATURE = "X-Signature"


def canonical(method: str, target: str, timestamp: str, device_id: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), target, timestamp, device_id, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, target: str, timestamp: str, device_id: str, body: bytes) -> str:
    return hmac.new(secret.encode(), canonical(method, target, timestamp, device_id, body), hashlib.sha256).hexdigest()


def verify(secret: str, signature: str, method: str, target: str, timestamp: str, device_id: str, body: bytes) -> bool:
    return hmac.compare_digest(sign(secret, method, target, timestamp, device_id, body), signature or "")
