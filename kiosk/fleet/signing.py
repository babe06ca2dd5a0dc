"""Ed25519 signatures on operator commands.

The county/province operator holds the private key; a kiosk holds only public
keys (one per line in the file named by ``[fleet] operator_keys``:
``<base64 raw public key> <key name>``). The signature covers the canonical
JSON of the command without its ``sig`` field, which includes the target
``device_id``: a command signed for one kiosk is refused by every other.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.core.storage import write_text_atomic


def canonical(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw_public(key)).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    """Short name of a public key (first 12 base64 characters of the raw key)."""
    return public_text(key)[:12]


@dataclass
class OperatorKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The command with ``key_id`` and ``sig`` added."""
        out = {**doc, "key_id": self.key_id}
        out["sig"] = base64.b64encode(self.private.sign(canonical(out))).decode("ascii")
        return out


def generate() -> OperatorKey:
    return OperatorKey(Ed25519PrivateKey.generate())


def save_private(key: OperatorKey, path: str | os.PathLike) -> None:
    pem = key.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, pem, mode=0o600)


def load_private(path: str | os.PathLike) -> OperatorKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return OperatorKey(key)


def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """``key_id -> key`` from the lines of a public-key file; bad lines raise ValueError."""
    keys: dict[str, Ed25519PublicKey] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            raw = base64.b64decode(line.split()[0], validate=True)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise ValueError(f"line {n}: not a base64 Ed25519 public key ({exc})") from exc
        keys[key_id(key)] = key
    return keys


def verify(doc: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> str | None:
    """None when ``doc`` carries a valid signature by one of ``keys``; else the reason."""
    sig, kid = doc.get("sig"), doc.get("key_id")
    if not sig or not isinstance(sig, str):
        return "unsigned"
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        return "unknown_key"
    try:
        key.verify(base64.b64decode(sig, validate=True), canonical(doc))
    except (InvalidSignature, ValueError):
        return "bad_signature"
    return None
