"""Find the Chinese font and give Kivy a face it can load.

Debian's fonts-noto-cjk ships Noto Sans CJK as a TrueType collection whose
first face is the Japanese one; Kivy's SDL2 text provider can only open the
first face of a collection. So we extract the Simplified-Chinese face (SC) to
a standalone file once (a raw table copy, ~0.4 s) and register that.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from kiosk.core.errors import ConfigError

log = logging.getLogger("kiosk.fonts")

CJK_COLLECTIONS = {
    "regular": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    "bold": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
}
SC_FACE_NAME = "Noto Sans CJK SC"
APT_PACKAGE = "fonts-noto-cjk"


class FontMissing(ConfigError):
    message_zh = "缺少中文字体，请联系技术人员。"


def _cache_dir() -> Path:
    for candidate in (os.environ.get("KIOSK_FONT_CACHE"), os.environ.get("XDG_CACHE_HOME"), str(Path.home() / ".cache")):
        if candidate:
            p = Path(candidate) / "kiosk-fonts"
            try:
                p.mkdir(parents=True, exist_ok=True)
                return p
            except OSError:
                continue
    return Path(tempfile.gettempdir())


def _extract_face(collection: Path, out: Path) -> None:
    from fontTools.ttLib import TTCollection

    ttc = TTCollection(str(collection), lazy=True)
    for face in ttc.fonts:
        if face["name"].getDebugName(1) == SC_FACE_NAME:
            tmp = out.with_suffix(".tmp")
            face.save(str(tmp))
            os.replace(tmp, out)
            return
    raise FontMissing(f"{collection} has no '{SC_FACE_NAME}' face; reinstall the Debian package {APT_PACKAGE}")


def cjk_font(weight: str = "regular") -> Path:
    """Path of a single-face Simplified-Chinese font file.

    Raises FontMissing naming the Debian package when the font is absent.
    """
    collection = CJK_COLLECTIONS[weight]
    if not collection.exists():
        raise FontMissing(
            f"Chinese font not found at {collection}: install the Debian package {APT_PACKAGE} "
            f"(apt-get install {APT_PACKAGE}); `make run` does this"
        )
    out = _cache_dir() / f"NotoSansCJKsc-{weight}-{collection.stat().st_mtime_ns}.otf"
    if not out.exists():
        log.info("extracting %s face of %s to %s", SC_FACE_NAME, collection, out)
        _extract_face(collection, out)
    return out
