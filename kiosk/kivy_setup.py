"""Configure Kivy before anything imports it.

Kivy reads its environment and config when first imported and opens the
window when ``kivy.core.window`` is imported, so every setting that matters
for a kiosk (full screen, no Escape-to-exit, no screensaver, one input
provider, the Chinese font) must be in place before that.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path


def prepare(*, fullscreen: bool, kiosk_mode: bool, width: int, height: int,
            kivy_home: str | None = None) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")        # our argparse owns the command line
    os.environ.setdefault("KIVY_NO_FILELOG", "1")     # journald/stderr only
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "0")
    if not _has_sound_card():
        # Without a sound card SDL's ALSA back end fills the journal with errors on
        # every prompt; the dummy driver keeps the app quiet and the prompts silent.
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        logging.getLogger("kiosk.voice").info("no sound card found: spoken prompts are silent")
    if kivy_home:
        Path(kivy_home).mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = kivy_home
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0" if kiosk_mode else "1")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "log_level", "info")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "allow_screensaver", "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    # No multisample anti-aliasing (Kivy's default is 2 samples): on software GL
    # (llvmpipe, common on these boards) it makes every full-window redraw ~3x
    # dearer, and the kiosk's flat, large shapes look the same without it.
    Config.set("graphics", "multisamples", "0")
    # One input provider: the SDL2 window gives mouse and touch events; extra
    # providers (mtdev/hidinput) would deliver every touch twice.
    for name, _value in list(Config.items("input")):
        Config.remove_option("input", name)
    Config.set("input", "mouse", "mouse,disable_multitouch")
    # Kivy modules (inspector, keybinding's F11/F12, monitor...) switched on in a
    # config.ini would add keys and overlays a resident could reach: none load.
    if Config.has_section("modules"):
        for name, _value in list(Config.items("modules")):
            Config.remove_option("modules", name)


def _has_sound_card() -> bool:
    try:
        cards = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return "no soundcards" not in cards and bool(cards.strip())


def register_fonts() -> None:
    """Make Noto Sans CJK SC the default font (Kivy has no font fallback)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from kiosk.fonts import cjk_font

    regular = str(cjk_font("regular"))
    bold = str(cjk_font("bold"))
    LabelBase.register(DEFAULT_FONT, regular, fn_bold=bold)
    LabelBase.register("KioskBold", bold)
    # Chinese line breaking (no line starting with "，" or ending with "“") for every label.
    from kiosk.screens.line_breaks import install

    install()
