"""The kinds of signed data bundle a kiosk takes from the fleet: catalog, disclosure, voice.

=============  ======================================  =====================================
kind           what the operator publishes (``file``)   installed as (``<storage>/bundles/``)
=============  ======================================  =====================================
catalog        the service catalog JSON                ``catalog-<v>.json``
disclosure     one county's disclosure catalog JSON    ``disclosure-<v>/`` (shipped counties +
               (schema 1, docs/disclosure.md)          this one), read by the disclosure screen
voice          a tar(.gz) of ``voice_prompts.toml``    ``voice-<v>/``, read by the voice prompts
               and one ``<key>.wav`` per prompt
=============  ======================================  =====================================

Each kind's ``load`` is what the kiosk runs at start, so the check before
activation and the use after it cannot disagree. :func:`activate_all` runs
once at start, before the first screen: it loads the active bundle of every
kind (rolling back a bundle that does not load) and points the disclosure
screen and the voice prompts at the bundles' directories.
"""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path
from typing import Any

from kiosk import CONFIG_DIR
from kiosk.core.config import Config
from kiosk.core.storage import write_text_atomic
from kiosk.fleet.bundles import SAFE_NAME, BundleError, Kind, load_active, pointer
from kiosk.fleet.update import sync_tree

KINDS = ("catalog", "disclosure", "voice")
VOICE_MARKER = "voice_prompts.toml"
MAX_VOICE_UNPACKED = 64 * 2**20


# -- catalog --------------------------------------------------------------------------------------


def _catalog_install(data: bytes, path: Path) -> None:
    write_text_atomic(path, data.decode("utf-8", errors="replace"))


def _catalog_load(path: Path | None) -> Any:
    from kiosk.flows.catalog import load_catalog

    load_catalog.cache_clear()  # type: ignore[attr-defined]
    return load_catalog(path)


# -- disclosure -------------------------------------------------------------------------------------


def _disclosure_kind(county: str) -> Kind:
    from kiosk.flows import disclosure

    def install(data: bytes, path: Path) -> None:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleError("invalid_bundle", f"not JSON: {exc}") from exc
        catalog = disclosure.parse_catalog(doc, "bundle")  # CatalogError -> invalid_bundle
        slug = doc.get("slug") if isinstance(doc, dict) else None
        if not isinstance(slug, str) or not SAFE_NAME.match(slug):
            raise BundleError("invalid_bundle", "slug must be a plain name")
        if county.strip() not in (slug, catalog.county, catalog.full_name):
            raise BundleError("wrong_county", f"bundle is for {catalog.county}, this kiosk is in {county}")
        path.mkdir(parents=True)
        # The other counties' shipped catalogs stay beside it (the technician may switch county).
        for shipped in sorted((CONFIG_DIR / "disclosure").glob("*.json")):
            shutil.copyfile(shipped, path / shipped.name)
        (path / f"{slug}.json").write_bytes(data)
        sync_tree(path)

    return Kind("disclosure", install, lambda path: disclosure.load_disclosure(county, path))


# -- voice ------------------------------------------------------------------------------------------


def _voice_install(data: bytes, path: Path) -> None:
    from kiosk.fleet.release import safe_extract

    archive = path.with_name(path.name + ".tar")
    archive.write_bytes(data)
    try:
        path.mkdir(parents=True)
        safe_extract(archive, path, marker=VOICE_MARKER, max_unpacked=MAX_VOICE_UNPACKED)
    except BundleError as exc:
        raise BundleError("invalid_bundle", str(exc)) from exc
    finally:
        archive.unlink(missing_ok=True)
    sync_tree(path)


def _voice_load(path: Path) -> dict[str, str]:
    """Every prompt of the bundle's table has a playable mono 16-bit WAV; the table."""
    from kiosk import voice

    table = voice.load_prompts(path / VOICE_MARKER)
    # This release speaks every key of its shipped table; a bundle missing one would leave a step silent.
    missing = set(voice.load_prompts(CONFIG_DIR / VOICE_MARKER).prompts) - set(table.prompts)
    if missing:
        raise ValueError(f"prompts missing: {', '.join(sorted(missing))}")
    for key in table.prompts:
        wav = path / f"{key}.wav"
        try:
            with wave.open(str(wav), "rb") as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getnframes() == 0:
                    raise ValueError(f"{wav.name}: not a mono 16-bit recording")
        except (OSError, EOFError, wave.Error) as exc:
            raise ValueError(f"prompt {key}: {exc}") from exc
    return table.prompts


# -- all kinds --------------------------------------------------------------------------------------


def kinds(cfg: Config) -> dict[str, Kind]:
    return {
        "catalog": Kind("catalog", _catalog_install, _catalog_load, ".json"),
        "disclosure": _disclosure_kind(cfg.settings.site.county),
        "voice": Kind("voice", _voice_install, _voice_load),
    }


def bundle_dir(cfg: Config) -> Path:
    return cfg.storage_dir / "bundles"


def activate_all(cfg: Config) -> tuple[Any, dict[str, str]]:
    """At start: (catalog, {kind: version in use}); the disclosure screen and voice use their bundles."""
    from kiosk import voice
    from kiosk.flows import disclosure

    directory, k = bundle_dir(cfg), kinds(cfg)
    catalog, versions = load_active(directory, k["catalog"], lambda: _catalog_load(None))
    out = {"catalog": versions}
    _loaded, out["disclosure"] = load_active(directory, k["disclosure"], lambda: None)
    if out["disclosure"] != "shipped":
        disclosure.DISCLOSURE_DIR = directory / _active_file(directory, "disclosure")
    _loaded, out["voice"] = load_active(directory, k["voice"], lambda: None)
    if out["voice"] != "shipped":
        voice.use_bundle(directory / _active_file(directory, "voice"))
    return catalog, out


def _active_file(directory: Path, kind: str) -> str:
    return str(pointer(directory)[kind]["file"])
