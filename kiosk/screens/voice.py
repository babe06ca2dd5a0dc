"""Spoken prompts through Kivy's audio: play, repeat, mute.

The WAV files are generated offline at set-up time (kiosk.voice_build); a
missing file or a machine without audio output means silence, never an error
on screen.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.core.audio import SoundLoader

from kiosk import voice as prompts

log = logging.getLogger("kiosk.voice")


#: Prompts kept loaded (decoded PCM): the few of one visit, not all of them (~26 MiB).
KEEP_LOADED = 3


class Voice:
    def __init__(self, volume: float = 0.8, muted: bool = False) -> None:
        self.volume = volume
        self.muted = muted
        self.last_key: str | None = None
        self.history: list[str] = []  # what was asked to be said (tests, technician view)
        self._sounds: dict[str, Any] = {}
        self._playing = None
        self._warned = False

    def say(self, key: str) -> None:
        self.last_key = key
        self.history = (self.history + [key])[-50:]
        if self.muted or self.volume <= 0:
            return
        sound = self._load(key)
        if sound is None:
            return
        try:
            if self._playing is not None and self._playing is not sound:
                self._playing.stop()
            sound.volume = self.volume
            sound.seek(0)
            sound.play()
            self._playing = sound
        except Exception as exc:  # an audio back end without a device must not break a visit
            if not self._warned:
                log.warning("voice prompt %s could not play: %s", key, exc)
                self._warned = True

    def repeat(self) -> None:
        if self.last_key:
            self.say(self.last_key)

    def text(self, key: str | None = None) -> str:
        key = key or self.last_key
        return prompts.prompt_text(key) if key else ""

    def _load(self, key: str):
        if key in self._sounds:
            self._sounds[key] = self._sounds.pop(key)  # most recently used last
            return self._sounds[key]
        while len(self._sounds) >= KEEP_LOADED:  # load on demand, keep only the last few
            _old_key, old = next(iter(self._sounds.items()))
            del self._sounds[_old_key]
            if old is not None and old is not self._playing:
                try:
                    old.unload()
                except Exception as exc:  # unloading must never break a visit
                    log.warning("voice prompt %s could not be unloaded: %s", _old_key, exc)
        path = prompts.prompt_path(key)
        sound = None
        if path is None:
            if not self._warned:
                log.warning("voice prompt %s not generated (run python -m kiosk.voice_build)", key)
                self._warned = True
        else:
            try:
                sound = SoundLoader.load(str(path))
            except Exception as exc:
                log.warning("voice prompt %s: %s", key, exc)
        self._sounds[key] = sound
        return sound
