"""Words as residents read them on screen (the catalog keeps the seed document's own text).

The seed guides name the province's phone app "民生山西 APP"; many elderly villagers
do not read Latin letters, so the screen says 手机软件 instead.
"""

from __future__ import annotations

import re

_APP = re.compile(r"(民生山西)?\s*(手机\s*)?\bAPP\b\s*", re.IGNORECASE)


def _app(m: re.Match) -> str:
    return "“民生山西”手机软件" if m.group(1) else "手机软件"


def plain_zh(text: str) -> str:
    """``text`` without English words a resident may not read."""
    return _APP.sub(_app, text)
