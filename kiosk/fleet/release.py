"""The ``update`` command's release: signed manifest, HTTPS download, safe unpacking, staging.

The operator signs a manifest (Ed25519, the operator keys that sign commands)::

    {"name": "kiosk", "version": "1.4.0", "url": "https://.../kiosk-1.4.0.tar.gz",
     "sha256": "<hex>", "key_id": ..., "sig": ...}

The URL may be any ``https://`` address: the signature and the hash make
the host irrelevant to the kiosk's safety (a mirror close to the county
serves as well as the province). The archive is a tar (optionally gzip) of
the release tree (``kiosk/``, ``config/``, ...; no virtualenv: the shared
``/opt/kiosk/venv`` holds the dependencies). It is unpacked only if every
member is a plain file or directory below the top (no absolute path, no
``..``, no device node) or a link that stays inside, within size bounds.
Then :func:`kiosk.fleet.update.prepare` puts it in as
``releases/<version>``; switching to it is the caller's move (between visits).
"""

from __future__ import annotations

import logging
import posixpath
import re
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.fleet import bundles, deps, signing, update
from kiosk.fleet.bundles import BundleError

log = logging.getLogger("kiosk.fleet.release")

MAX_ARCHIVE = 64 * 2**20  # a release is code, fonts and data; the venv is not in it
MAX_UNPACKED = 256 * 2**20  # guards against a compression bomb
MAX_MEMBERS = 20000
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,40}$")
_MARKER = "kiosk/__main__.py"  # what makes a tree a kiosk release


def make_manifest(key: signing.OperatorKey, version: str, url: str, data: bytes) -> dict[str, Any]:
    import hashlib

    return key.sign({"name": "kiosk", "version": version, "url": url, "sha256": hashlib.sha256(data).hexdigest()})


def check_manifest(manifest: Any, keys: dict) -> tuple[str, str, str]:
    """(version, url, sha256) of a manifest signed by an operator key; raises BundleError."""
    version, url, digest = bundles.signed(manifest, keys, "release", "kiosk", ("version", "url", "sha256"))
    if not isinstance(version, str) or not _VERSION.match(version):
        raise BundleError("malformed", "version must be a plain name")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise BundleError("not_https", str(url))
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise BundleError("malformed", "sha256 must be 64 hex digits")
    return version, url, digest


def _unsafe(m: tarfile.TarInfo) -> str | None:
    name = m.name
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or ".." in parts:
        return f"{name}: absolute path or '..'"
    if m.issym() or m.islnk():
        target = m.linkname
        where = posixpath.dirname(name) if m.issym() else ""
        resolved = posixpath.normpath(posixpath.join(where, target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            return f"{name}: link to {target} leaves the release"
        return None
    if not (m.isfile() or m.isdir()):
        return f"{name}: not a file or directory"
    return None


def safe_extract(archive: Path, dest: Path, marker: str = _MARKER, max_unpacked: int = MAX_UNPACKED) -> None:
    """Unpack ``archive`` into ``dest`` after checking every member; raises BundleError('unsafe_archive').

    ``marker``: the file that makes the archive what it claims to be (``not_a_release`` without it).
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            if len(members) > MAX_MEMBERS:
                raise BundleError("unsafe_archive", f"more than {MAX_MEMBERS} members")
            total = 0
            for m in members:
                why = _unsafe(m)
                if why:
                    raise BundleError("unsafe_archive", why)
                total += m.size
                if total > max_unpacked:
                    raise BundleError("unsafe_archive", f"unpacks to more than {max_unpacked} bytes")
            if not any(m.name.lstrip("./") == marker for m in members):
                raise BundleError("not_a_release", f"no {marker} in the archive")
            # The "data" filter re-checks the same (and strips modes like setuid): belt and braces.
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError("bad_archive", str(exc)) from exc


def fetch(
    manifest: Any,
    keys: dict,
    base: Path,
    *,
    ca_file: str = "",
    progress: Callable[..., None] = lambda stage, **fields: None,
) -> str:
    """Verify, download and stage a release as ``releases/<version>``; its version. Raises BundleError."""
    version, url, digest = check_manifest(manifest, keys)
    if update.current_version(base) == version:
        raise BundleError("already_current", version)
    releases = base / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    archive, unpack = releases / f".{version}.download", releases / f".{version}.unpack"
    try:
        progress("downloading", url=url)
        with open(archive, "wb") as f:
            size = bundles.download(
                url,
                digest,
                f,
                ca_file=ca_file,
                max_bytes=MAX_ARCHIVE,
                progress=lambda n: progress("downloading", bytes=n),
            )
        progress("verified", bytes=size)
        shutil.rmtree(unpack, ignore_errors=True)
        unpack.mkdir()
        safe_extract(archive, unpack)
        build = None
        if deps.needed(unpack):  # new Python packages: the release's own venv, offline, before any switch
            progress("dependencies")
            build = deps.build
        update.prepare(base, version, unpack, build=build)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(unpack, ignore_errors=True)
    log.info("release %s downloaded, verified and staged under %s", version, releases)
    progress("staged", version=version)
    return version
