"""Signed data bundles (catalog, disclosure, voice): download, verify, stage, activate, roll back.

An operator announces a bundle with the signed ``update_bundle`` command
(``update_catalog`` for the catalog, kept for older operator tools); its
arguments are the bundle's manifest, itself signed by an operator key::

    {"name": "<kind>", "version": "2026-12-01", "file": "catalog-2026-12-01.json",
     "sha256": "<hex>", "key_id": ..., "sig": ...}

The kiosk downloads ``file`` from its configured ``[fleet] bundle_url`` (HTTPS;
a command cannot send it to another host), checks the size, SHA-256 and the
manifest's signature, installs it beside the bundle in use under a temporary
name and loads it as its kind (:class:`Kind`, the kinds themselves are in
:mod:`kiosk.fleet.bundle_kinds`) before anything changes. Then it renames it
into place and writes ``<storage>/bundles/active.json`` (atomically) naming
it and the previous one of its kind. The new bundle is taken into use at the
next start, which the app schedules for the first moment no resident is at
the kiosk ("between visits"). At start, :func:`load_active` loads the active
bundle of each kind; if that fails it rolls back to the previous one, then to
what the kiosk shipped with.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from kiosk.core.errors import KioskError
from kiosk.core.storage import fsync_dir, write_text_atomic

if TYPE_CHECKING:
    from kiosk.fleet import signing

# httpx and the signature checks (cryptography) are imported where a bundle is fetched:
# the kiosk loads its active bundles at every start, before its first frame, and needs neither.

log = logging.getLogger("kiosk.fleet.bundles")

MAX_BYTES = 20 * 2**20
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


class BundleError(KioskError):
    """A bundle that must not be used; ``reason`` goes into the command's ack."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def make_manifest(key: signing.OperatorKey, name: str, version: str, file: str, data: bytes) -> dict[str, Any]:
    return key.sign({"name": name, "version": version, "file": file, "sha256": hashlib.sha256(data).hexdigest()})


def pointer(directory: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((directory / "active.json").read_text("utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        return {}


def signed(manifest: Any, keys: dict, what: str, name: str, fields: tuple[str, ...]) -> list[Any]:
    """The ``fields`` of a manifest signed by an operator key and naming ``name``; raises BundleError.

    Reasons: ``malformed``, ``<what>_unsigned|unknown_key|bad_signature``, ``unknown_<what>``.
    """
    from kiosk.fleet import signing

    if not isinstance(manifest, dict):
        raise BundleError("malformed")
    why = signing.verify(manifest, keys)
    if why:
        raise BundleError(f"{what}_{why}")
    if manifest.get("name") != name:
        raise BundleError(f"unknown_{what}", str(manifest.get("name")))
    return [manifest.get(k) for k in fields]


def download(
    url: str,
    digest: str,
    sink: BinaryIO,
    *,
    ca_file: str = "",
    max_bytes: int = MAX_BYTES,
    progress: Callable[[int], None] | None = None,
) -> int:
    """GET ``url`` over HTTPS into ``sink`` (bounded size), check its SHA-256; the size. Raises BundleError."""
    import httpx

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


@dataclass(frozen=True)
class Kind:
    """One kind of bundle: how its download is installed, and how an installed one is loaded.

    ``install(data, path)`` writes the verified download as ``path`` (a file or
    a directory that does not exist yet; raise :class:`BundleError` to refuse
    it); ``load(path)`` parses it exactly as the kiosk will at start and raises
    on anything wrong; it must not change the running kiosk.
    """

    name: str
    install: Callable[[bytes, Path], None]
    load: Callable[[Path], Any]
    suffix: str = ""  # ".json" for single-file kinds; "" = a directory


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_pointer(directory: Path, kind: str, entry: dict[str, Any] | None) -> None:
    doc = pointer(directory)
    doc[kind] = entry
    write_text_atomic(directory / "active.json", json.dumps(doc, ensure_ascii=False))


def fetch(
    manifest: Any, base_url: str, keys: dict, directory: Path, kind: Kind, *, ca_file: str = ""
) -> dict[str, Any]:
    """Download, verify and activate a bundle of ``kind``; returns its new pointer entry. Raises BundleError."""
    version, file, digest = signed(manifest, keys, "bundle", kind.name, ("version", "file", "sha256"))
    if not all(isinstance(v, str) and SAFE_NAME.match(v) for v in (version, file)) or not isinstance(digest, str):
        raise BundleError("malformed", "version/file must be plain names")
    if not base_url.startswith("https://"):
        raise BundleError("no_bundle_url", "[fleet] bundle_url must be an https:// URL")
    old = pointer(directory).get(kind.name)
    if isinstance(old, dict) and old.get("version") == version and old.get("sha256") == digest:
        raise BundleError("already_active", f"{kind.name} {version}")
    buf = io.BytesIO()
    download(f"{base_url.rstrip('/')}/{file}", digest, buf, ca_file=ca_file)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{kind.name}-{version}.tmp{kind.suffix}"
    _remove(tmp)
    try:
        kind.install(buf.getvalue(), tmp)
        kind.load(tmp)
    except BundleError:
        _remove(tmp)
        raise
    except Exception as exc:
        _remove(tmp)
        raise BundleError("invalid_bundle", str(exc)) from exc
    final = directory / f"{kind.name}-{version}{kind.suffix}"
    if isinstance(old, dict) and old.get("file") == final.name:  # same version, new content: keep the old safe
        final = directory / f"{kind.name}-{version}-{digest[:8]}{kind.suffix}"
    _remove(final)
    os.replace(tmp, final)
    fsync_dir(directory)
    # One step of history: the previous bundle is the rollback target, older ones go.
    previous = {k: v for k, v in old.items() if k != "previous"} if isinstance(old, dict) else None
    entry = {"version": version, "file": final.name, "sha256": digest, "previous": previous}
    _write_pointer(directory, kind.name, entry)
    _prune(directory, kind.name, {final.name, str((previous or {}).get("file"))})
    log.info("%s bundle %s verified and activated (in use from the next start)", kind.name, version)
    return entry


def _prune(directory: Path, kind: str, keep: set[str]) -> None:
    for path in directory.glob(f"{kind}-*"):
        if path.name not in keep:
            log.info("%s bundle %s no longer needed: removed", kind, path.name)
            _remove(path)


def load_active(directory: Path, kind: Kind, shipped: Callable[[], Any]) -> tuple[Any, str]:
    """(loaded, version) of the active bundle of ``kind``, rolling back on a load failure.

    Falls back to the previous bundle, then to ``shipped()`` (version ``shipped``).
    """
    entry = pointer(directory).get(kind.name)
    while isinstance(entry, dict):
        path = directory / str(entry.get("file", ""))
        try:
            return kind.load(path), str(entry.get("version"))
        except Exception as exc:
            log.error("%s bundle %s does not load (%s); rolling back", kind.name, entry.get("version"), exc)
            entry = entry.get("previous")
            _write_pointer(directory, kind.name, entry)
    return shipped(), "shipped"


def load_active_catalog(directory: Path, load: Callable[[Path | None], Any]) -> tuple[Any, str]:
    """(catalog, version) from the active catalog bundle; ``load(None)`` loads the shipped catalog."""
    kind = Kind("catalog", lambda data, path: None, load, ".json")
    return load_active(directory, kind, lambda: load(None))
