"""The panel's physical size: pixels per millimetre and the UI scale.

The kiosk's sizes (kiosk.screens.theme) are designed in pixels of a
reference panel of REFERENCE_PPI (96 ppi, 1 px = 0.265 mm: a 15.6" 1280x800
panel). On any other panel text and touch targets keep the same size in
millimetres, so the scale is the panel's ppi over the reference, computed
from the configured resolution and diagonal ([ui] width, height,
diagonal_inches). Extra room on a bigger panel shows more of a page, not
bigger letters.

Two limits: the scale never exceeds what fits (the screens are laid out for
REFERENCE_SIZE, 1280x800 landscape or 800x1280 portrait: a small dense panel
gets smaller millimetres rather than clipped screens), and never goes below
0.75 (Chinese characters need pixels to stay crisp on coarse 43" panels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.core.settings import UiSettings

REFERENCE_PPI = 96.0
MIN_SCALE = 0.75
REFERENCE_SIZE = (1280, 800)
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Panel:
    width_px: int
    height_px: int
    diagonal_in: float

    @property
    def ppi(self) -> float:
        return math.hypot(self.width_px, self.height_px) / self.diagonal_in

    @property
    def px_per_mm(self) -> float:
        return self.ppi / MM_PER_INCH

    @property
    def width_mm(self) -> float:
        return self.width_px / self.px_per_mm

    @property
    def height_mm(self) -> float:
        return self.height_px / self.px_per_mm

    @property
    def portrait(self) -> bool:
        return self.height_px > self.width_px

    @property
    def fit(self) -> float:
        """The largest scale at which the reference layout fits this panel."""
        long_side, short_side = REFERENCE_SIZE
        w, h = (short_side, long_side) if self.portrait else (long_side, short_side)
        return min(self.width_px / w, self.height_px / h)

    @property
    def scale(self) -> float:
        return max(MIN_SCALE, min(self.ppi / REFERENCE_PPI, self.fit))

    def describe(self) -> str:
        return (
            f'{self.width_px}x{self.height_px} px, {self.diagonal_in:g}" '
            f"({self.width_mm:.0f}x{self.height_mm:.0f} mm, {self.ppi:.1f} ppi, UI scale {self.scale:.2f})"
        )


def from_settings(ui: UiSettings) -> Panel:
    """The panel the ``[ui]`` settings describe."""
    return Panel(ui.width, ui.height, ui.diagonal_inches)
