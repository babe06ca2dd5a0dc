"""At start: which OpenGL renderer draws the UI, and a technician alert when it is software.

A kiosk whose GPU driver failed to load silently falls back to Mesa's software
rasterisers (llvmpipe, softpipe, swrast): every frame is drawn by the CPU, the
UI stutters and the box runs hot (docs/technician.md). Nothing else notices, so
the renderer is logged at every start and a software one is raised as a device
state the technician sees ("display" in the technician's device list and in the
watchdog status), like the paper-near-end alert.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

log = logging.getLogger("kiosk.gpu")

# Mesa's software renderers and the generic names other stacks give theirs.
_SOFTWARE = re.compile(r"llvmpipe|softpipe|swrast|software rasterizer|gdi generic|microsoft basic render", re.I)

#: What the technician reads (device list, health).
SOFTWARE_ZH = "图形加速未启用（软件渲染），画面会卡顿、主机发热：请检查显卡驱动。"


@dataclass(frozen=True)
class GpuReport:
    renderer: str
    vendor: str = ""
    version: str = ""

    @property
    def software(self) -> bool:
        return is_software(self.renderer)


def is_software(renderer: str) -> bool:
    """True for a CPU rasteriser (llvmpipe, softpipe, swrast ...); an empty answer is not judged."""
    return bool(_SOFTWARE.search(renderer or ""))


def read_renderer() -> GpuReport:
    """Ask the current GL context (call on the UI thread once the window exists)."""
    from kivy.graphics.opengl import GL_RENDERER, GL_VENDOR, GL_VERSION, glGetString

    def text(name: int) -> str:
        raw = glGetString(name)
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")

    return GpuReport(text(GL_RENDERER), text(GL_VENDOR), text(GL_VERSION))


def check(report_state) -> GpuReport | None:
    """Log the renderer; raise the technician alert through ``report_state(status, detail)`` if software.

    Never raises: a failed query is logged once and the kiosk goes on (it can still serve residents).
    """
    try:
        rep = read_renderer()
    except Exception as exc:  # a GL query must never stop the start
        log.warning("OpenGL renderer unknown: %s", exc)
        return None
    log.info("OpenGL renderer: %s (vendor %s, version %s)", rep.renderer, rep.vendor, rep.version)
    if rep.software:
        log.warning("technician alert: software rendering (%s); the UI will be slow and the CPU hot", rep.renderer)
        report_state("software_rendering", f"{SOFTWARE_ZH}（{rep.renderer}）")
    else:
        report_state("online", rep.renderer)
    return rep
