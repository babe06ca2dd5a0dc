"""Render the spoken prompts to WAV files with espeak-ng (set-up time only).

    python -m kiosk.voice_build [--quiet] [--prompts FILE] [--out DIR] [--force]

Idempotent: ``<out>/manifest.json`` records, per key, a hash of the text and
the voice settings; a prompt whose WAV exists with the same hash is skipped,
so a second run rewrites nothing. Files are written to a temporary name and
renamed, so an interrupted run never leaves a truncated WAV behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.core.errors import ConfigError, KioskError
from kiosk.voice import MANIFEST_NAME, PROMPTS_PATH, VOICE_DIR, VoiceSettings, load_prompts

log = logging.getLogger("kiosk.voice")

ESPEAK_TIMEOUT = 30.0  # seconds per prompt; espeak-ng needs well under one


class VoiceBuildError(KioskError):
    message_zh = "语音提示生成失败，请联系技术人员。"


@dataclass
class BuildReport:
    voice: str = ""
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def prompt_hash(text: str, voice: str, settings: VoiceSettings) -> str:
    blob = json.dumps(
        {"text": text, "engine": settings.engine, "voice": voice,
         "speed": settings.speed, "pitch": settings.pitch, "amplitude": settings.amplitude},
        ensure_ascii=False, sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if not exe:
        raise VoiceBuildError("espeak-ng not found on PATH (Debian package espeak-ng)")
    return exe


def pick_voice(settings: VoiceSettings) -> str:
    """The first configured voice espeak-ng can actually render.

    ``zh`` maps to an MBROLA voice on Debian that fails without the mbrola
    package, so each candidate is probed by rendering a short text.
    """
    exe = _espeak()
    for voice in settings.voices:
        try:
            res = subprocess.run([exe, "-v", voice, "--stdout", "你好"], capture_output=True,
                                 timeout=ESPEAK_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            continue
        if res.returncode == 0 and len(res.stdout) > 1000:
            return voice
        log.info("espeak-ng voice %s unusable (rc=%s)", voice, res.returncode)
    raise VoiceBuildError(f"none of the espeak-ng voices {list(settings.voices)} is usable")


def _render(exe: str, voice: str, settings: VoiceSettings, text: str, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".wav", dir=dest.parent)
    os.close(fd)
    try:
        cmd = [exe, "-v", voice, "-s", str(settings.speed), "-p", str(settings.pitch),
               "-a", str(settings.amplitude), "-w", tmp, text]
        try:
            res = subprocess.run(cmd, capture_output=True, timeout=ESPEAK_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise VoiceBuildError(f"espeak-ng timed out rendering {dest.name}") from exc
        if res.returncode != 0 or os.path.getsize(tmp) <= 44:
            err = res.stderr.decode("utf-8", "replace").strip()
            raise VoiceBuildError(f"espeak-ng failed for {dest.name}: rc={res.returncode} {err}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data.get("prompts", {}) if isinstance(data, dict) else {}


def _write_manifest(path: Path, voice: str, hashes: dict[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"voice": voice, "prompts": hashes}, ensure_ascii=False, indent=1,
                              sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def build(prompts_path: str | Path = PROMPTS_PATH, out_dir: str | Path = VOICE_DIR,
          force: bool = False) -> BuildReport:
    table = load_prompts(prompts_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exe = _espeak()
    voice = pick_voice(table.settings)
    report = BuildReport(voice=voice)
    manifest_path = out / MANIFEST_NAME
    old = _read_manifest(manifest_path)
    new: dict[str, str] = {}
    for key, text in table.prompts.items():
        digest = prompt_hash(text, voice, table.settings)
        dest = out / f"{key}.wav"
        if not force and old.get(key) == digest and dest.is_file():
            report.skipped.append(key)
        else:
            _render(exe, voice, table.settings, text, dest)
            report.written.append(key)
            log.info("voice prompt %s rendered", key)
        new[key] = digest
    for key in sorted(set(old) - set(new)):  # prompts dropped from the table
        stale = out / f"{key}.wav"
        if stale.is_file():
            stale.unlink()
        report.removed.append(key)
    if new != old:
        _write_manifest(manifest_path, voice, new)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.voice_build", description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true", help="print nothing unless something fails")
    ap.add_argument("--prompts", default=str(PROMPTS_PATH), help="prompt table (TOML)")
    ap.add_argument("--out", default=str(VOICE_DIR), help="output folder for the WAV files")
    ap.add_argument("--force", action="store_true", help="re-render every prompt")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        report = build(args.prompts, args.out, force=args.force)
    except (ConfigError, VoiceBuildError) as exc:
        print(f"voice_build: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"voice_build: voice {report.voice}: {len(report.written)} written, "
              f"{len(report.skipped)} unchanged, {len(report.removed)} removed -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
