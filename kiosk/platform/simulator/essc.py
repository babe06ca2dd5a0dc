"""Electronic social-security card (e-SSC) QR codes: signed, short-lived, single use.

Format (opaque to the kiosk): ``ESSC1.<payload>.<signature>``, both parts
base64url; payload is JSON ``{"k": "r"|"s", "sub": id_number|username,
"iat": unix, "exp": unix, "n": nonce}``; signature is HMAC-SHA256 over the
payload part with the issuer key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass

LIFETIME_S = 60  # the code on the phone refreshes every minute


class QrError(Exception):
    def __init__(self, code: str, reason_zh: str) -> None:
        super().__init__(code)
        self.code = code
        self.reason_zh = reason_zh


@dataclass
class QrClaims:
    kind: str  # "resident" | "staff"
    subject: str
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class EsscIssuer:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._used: dict[str, int] = {}  # nonce -> exp
        self._lock = threading.Lock()

    def issue(self, kind: str, subject: str, now: float, lifetime: int = LIFETIME_S) -> tuple[str, int]:
        exp = int(now) + lifetime
        payload = _b64(
            json.dumps(
                {
                    "k": "s" if kind == "staff" else "r",
                    "sub": subject,
                    "iat": int(now),
                    "exp": exp,
                    "n": secrets.token_hex(8),
                },
                separators=(",", ":"),
            ).encode()
        )
        sig = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        return f"ESSC1.{payload}.{sig}", exp

    def verify(self, qr_text: str, now: float) -> QrClaims:
        parts = qr_text.strip().split(".")
        if len(parts) != 3 or parts[0] != "ESSC1":
            raise QrError("qr_malformed", "这不是电子社保卡二维码，请在手机上打开电子社保卡二维码后重新扫码。")
        want = _b64(hmac.new(self._key, parts[1].encode("utf-8", "surrogatepass"), hashlib.sha256).digest())
        # compare bytes: compare_digest refuses str with non-ASCII characters (TypeError)
        if not hmac.compare_digest(want.encode(), parts[2].encode("utf-8", "surrogatepass")):
            raise QrError("qr_forged", "电子社保卡二维码无法验证，请刷新手机上的二维码后重新扫码。")
        try:
            claims = json.loads(_unb64(parts[1]))
            kind, sub, exp, nonce = claims["k"], str(claims["sub"]), int(claims["exp"]), str(claims["n"])
        except (ValueError, KeyError, TypeError):
            raise QrError("qr_malformed", "电子社保卡二维码内容有误，请刷新后重新扫码。") from None
        if now > exp:
            raise QrError("qr_expired", "电子社保卡二维码已过期，请刷新手机上的二维码后重新扫码。")
        with self._lock:
            if nonce in self._used:
                raise QrError("qr_replayed", "该电子社保卡二维码已使用过，请刷新手机上的二维码后重新扫码。")
            self._used[nonce] = exp
            for n, e in list(self._used.items()):  # forget nonces that can no longer verify
                if e < now - 5:
                    del self._used[n]
        return QrClaims("staff" if kind == "s" else "resident", sub, exp)
