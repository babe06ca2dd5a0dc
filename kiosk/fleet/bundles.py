"""Signed data bundles (the service catalog): download, verify, stage, activate, roll back.

An operator announces a bundle with the signed ``update_catalog`` command; its
arguments are the bundle's manifest, itself signed by an operator key::

    {"name": "catalog", "version": "2026-12-01", "file": "catalog-2026-12-01.json",
     "sha256": "<hex>", "key_id": ..., "sig": ...}

The kiosk downloads ``file`` from its configured ``[fleet] bundle_url`` (HTTPS;
a command cannot send it to another host), checks the size, SHA-256 and the
manifest's signature, and parses it as a catalog before anything changes. Then
it writes ``<storage>/bundles/active.json`` (atomically) naming the new file
and the previous one. The new catalog is taken into use at the next start,
which the app schedules for the first moment no resident is at the kiosk
("between visits"). At start, :func:`load_active_catalog` loads the active
bundle; if that fails it rolls back to the previous bundle, then to the
shipped ``config/catalog.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from kiosk.core.errors import KioskError
from kiosk.core.storage import write_text_atomic
from kiosk.fleet import signing

log = logging.getLogger("kiosk.fleet.bundles")

MAX_BYTES = 20 * 2**20
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class BundleError(KioskError):
    """A bundle that must not be used; ``reason`` goes into the command's ack."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def make_manifest(key: signing.OperatorKey, name: str, version: str, file: str, data: bytes) -> dict[str, Any]:
    return key.sign({"name": name, "version": version, "file": file, "sha256": hashlib.sha256(data).hexdigest()})


def _pointer(directory: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((directory / "active.json").read_text("utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return {}


def signed(manifest: Any, keys: dict, what: str, name: str, fields: tuple[str, ...]) -> list[Any]:
    """The ``fields`` of a manifest signed by an operator key and naming ``name``; raises BundleError.

    Reasons: ``malformed``, ``<what>_unsigned|unknown_key|bad_signature``, ``unknown_<what>``.
    """
    if not isinstance(manifest, dict):
        raise BundleError("malformed")
    why = signing.verify(manifest, keys)
    if why:
        raise BundleError(f"{what}_{why}")
    if manifest.get("name") != name:
        raise BundleError(f"unknown_{what}", str(manifest.get("name")))
    return [manifest.get(k) for k in fields]


def download(url: str, digest: str, sink: BinaryIO, *, ca_file: str = "", max_bytes: int = MAX_BYTES,
             progress: Callable[[int], None] | None = None) -> int:
    """GET ``url`` over HTTPS into ``sink`` (bounded size), check its SHA-256; the size. Raises BundleError."""
    if not url.startswith("https://"):
        raise BundleError("not_https", url)
    h, size, told = hashlib.sha256(), 0, 0
    try:
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        with httpx.stream("GET", url, verify=verify, timeout=30.0) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BundleError("too_large", f"over {max_bytes} bytes")
                h.update(chunk)
                sink.write(chunk)
                if progress is not None and size - told >= 2**20:
                    told = size
                    progress(size)
    except httpx.HTTPError as exc:
        raise BundleError("download_failed", f"{url}: {exc}") from exc
    if h.hexdigest() != digest:
        raise BundleError("hash_mismatch", url)
    return size


def fetch(manifest: Any, base_url: str, keys: dict, directory: Path, *, ca_file: str = "",
          validate: Callable[[Path], Any]) -> dict[str, Any]:
    """Download, verify and activate a catalog bundle; returns the new pointer. Raises BundleError."""
    version, file, digest = signed(manifest, keys, "bundle", "catalog", ("version", "file", "sha256"))
    if not all(isinstance(v, str) and _SAFE.match(v) for v in (version, file)) or not isinstance(digest, str):
        raise BundleError("malformed", "version/file must be plain names")
    if not base_url.startswith("https://"):
        raise BundleError("no_bundle_url", "[fleet] bundle_url must be an https:// URL")
    buf = io.BytesIO()
    download(f"{base_url.rstrip('/')}/{file}", digest, buf, ca_file=ca_file)
    data = buf.getvalue()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"catalog-{version}.json"
    write_text_atomic(target, data.decode("utf-8", errors="replace"))
    try:
        validate(target)
    except Exception as exc:  # noqa: BLE001 - whatever the loader says, the bundle is not used
        os.unlink(target)
        raise BundleError("invalid_bundle", str(exc)) from exc
    old = _pointer(directory).get("catalog")
    pointer = {"catalog": {"version": version, "file": target.name, "sha256": digest, "previous": old}}
    write_text_atomic(directory / "active.json", json.dumps(pointer, ensure_ascii=False))
    log.info("catalog bundle %s verified and activated (in use from the next start)", version)
    return pointer


def load_active_catalog(directory: Path, load: Callable[[Path | None], Any]) -> tuple[Any, str]:
    """(catalog, version) from the active bundle, rolling back on a load failure.

    ``load(None)`` loads the shipped catalog; its version is reported as ``shipped``.
    """
    entry = _pointer(directory).get("catalog")
    tried = []
    while isinstance(entry, dict):
        path = directory / str(entry.get("file", ""))
        try:
            catalog = load(path)
        except Exception as exc:  # noqa: BLE001 - a bad bundle falls back, never stops the kiosk
            log.error("catalog bundle %s does not load (%s); rolling back", entry.get("version"), exc)
            tried.append(entry.get("version"))
            entry = entry.get("previous")
            write_text_atomic(directory / "active.json", json.dumps({"catalog": entry}, ensure_ascii=False))
            continue
        return catalog, str(entry.get("version"))
    return load(None), "shipped"
