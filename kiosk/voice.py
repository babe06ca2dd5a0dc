"""Spoken prompts: which WAV file belongs to which step (Kivy-free).

The texts live in ``config/voice_prompts.toml``; ``python -m kiosk.voice_build``
renders them once, at set-up time, into ``var/voice/<key>.wav``. The app asks
:func:`prompt_path` for a key and plays the file with Kivy's SoundLoader; a
missing file means "no voice" (the screen still shows the text), never an error
on the resident's screen.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import CONFIG_DIR, ROOT
from kiosk.core.errors import ConfigError

log = logging.getLogger("kiosk.voice")

PROMPTS_PATH = CONFIG_DIR / "voice_prompts.toml"
VOICE_DIR = ROOT / "var" / "voice"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class VoiceSettings:
    engine: str = "espeak-ng"
    voices: tuple[str, ...] = ("cmn", "zh")
    speed: int = 140
    pitch: int = 50
    amplitude: int = 120


@dataclass(frozen=True)
class PromptTable:
    settings: VoiceSettings
    prompts: dict[str, str] = field(default_factory=dict)


def use_bundle(directory: str | Path) -> None:
    """Take prompts (texts and WAVs) from a fleet voice bundle's directory from now on.

    Called once at start (kiosk.fleet.bundle_kinds), before the first prompt is
    played, so a visit never hears two voices.
    """
    global PROMPTS_PATH, VOICE_DIR
    PROMPTS_PATH = Path(directory) / "voice_prompts.toml"
    VOICE_DIR = Path(directory)


def load_prompts(path: str | Path | None = None) -> PromptTable:
    """Read and validate the prompt table (key -> Chinese text)."""
    path = Path(path or PROMPTS_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"voice prompt table {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"voice prompt table {path}: {exc}") from exc
    prompts = raw.get("prompts")
    if not isinstance(prompts, dict) or not prompts:
        raise ConfigError(f"voice prompt table {path}: [prompts] missing or empty")
    for key, text in prompts.items():
        if not key.isidentifier() or not key.islower():
            raise ConfigError(f"voice prompt table {path}: bad key {key!r} (lower_snake_case expected)")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"voice prompt table {path}: prompt {key!r} must be non-empty text")
    v = raw.get("voice", {})
    unknown = set(v) - {"engine", "voices", "speed", "pitch", "amplitude"}
    if unknown:
        raise ConfigError(f"voice prompt table {path}: unknown [voice] keys {sorted(unknown)}")
    try:
        settings = VoiceSettings(
            engine=str(v.get("engine", "espeak-ng")),
            voices=tuple(str(x) for x in v.get("voices", ("cmn", "zh"))),
            speed=int(v.get("speed", 140)),
            pitch=int(v.get("pitch", 50)),
            amplitude=int(v.get("amplitude", 120)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"voice prompt table {path}: bad [voice] value: {exc}") from exc
    if not settings.voices:
        raise ConfigError(f"voice prompt table {path}: [voice] voices is empty")
    return PromptTable(settings=settings, prompts=dict(prompts))


def prompt_keys(path: str | Path | None = None) -> list[str]:
    return list(load_prompts(path).prompts)


def prompt_text(key: str, path: str | Path | None = None) -> str:
    """The Chinese text of a prompt (for the caption under the speaker icon)."""
    table = load_prompts(path)
    if key not in table.prompts:
        raise ConfigError(f"unknown voice prompt {key!r}")
    return table.prompts[key]


def prompt_path(key: str, voice_dir: str | Path | None = None) -> Path | None:
    """The WAV file for ``key``, or None when it was not generated.

    Only the file system is consulted, so this is cheap enough to call on
    every screen change.
    """
    if not key or not key.replace("_", "").isalnum():
        raise ConfigError(f"bad voice prompt key {key!r}")
    path = Path(voice_dir or VOICE_DIR) / f"{key}.wav"
    if path.is_file():
        return path
    log.debug("voice prompt %s not generated (%s missing)", key, path)
    return None
