"""Logging for the kiosk: English lines to stderr (journald), ID numbers masked.

Every module masks what it logs; this formatter is the second line of defence
so that no ID-number-shaped run reaches the journal in full.
"""

from __future__ import annotations

import logging

from kiosk.core.idnumber import scrub

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup(verbose: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_kiosk_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # One line per HTTP request is noise in the journal; the adapter logs what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    from kiosk import logbuffer

    logbuffer.install()  # recent lines for the technician screen and fault reports
    root._kiosk_configured = True  # type: ignore[attr-defined]
