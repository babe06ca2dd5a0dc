"""Cheap change detection on camera frames: is anything happening in front of the kiosk?

The kiosk idles on its attract screen for most of the day with the camera
live. Decoding every frame and redrawing the preview every frame costs most
of its idle CPU (on software GL a preview frame redraws the whole window).
A thumbnail of a few thousand pixels, taken by striding the frame (no
filtering pass over the full image), tells in ~0.1 ms whether the picture
changed since the last frame that was decoded or shown.

Sensor noise averages out over the thumbnail: its mean absolute difference
stays around 1 grey level on a still scene; a hand or a phone entering the
view moves it by tens of levels.
"""

from __future__ import annotations

import time
from typing import Callable

import cv2
import numpy as np

#: Mean absolute difference (grey levels, 0-255) over the thumbnail above
#: which a frame counts as changed. Sensor noise stays well below it.
DEFAULT_THRESHOLD = 3.0
#: Target thumbnail width in pixels (height follows the aspect ratio).
THUMB_WIDTH = 80


def thumbnail(image: np.ndarray, width: int = THUMB_WIDTH) -> np.ndarray:
    """A small greyscale copy of a BGR / BGRA / grey frame, by striding (no full-frame pass)."""
    step = max(1, image.shape[1] // width)
    small = image[::step, ::step]
    if small.ndim == 3 and small.shape[2] == 3:
        small = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_BGR2GRAY)
    elif small.ndim == 3 and small.shape[2] == 4:
        small = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_BGRA2GRAY)
    elif small.ndim == 3:
        small = small[:, :, 0]
    return np.ascontiguousarray(small)


def difference(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Mean absolute difference of two thumbnails; infinite when one is missing or the sizes differ."""
    if a is None or b is None or a.shape != b.shape:
        return float("inf")
    return float(cv2.absdiff(a, b).mean())


class ChangeDetector:
    """Says whether a frame differs from the last one *accepted* (not merely the last one seen),
    so a slow movement adds up until it counts."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._ref: np.ndarray | None = None
        self.last: np.ndarray | None = None  # thumbnail of the last frame looked at

    def changed(self, image: np.ndarray) -> bool:
        thumb = self.last = thumbnail(image)
        if difference(thumb, self._ref) > self.threshold:
            self._ref = thumb
            return True
        return False

    def reset(self) -> None:
        self._ref = None


SKIP, DECODE, DECODE_RESCUE = 0, 1, 2


class DecodeGate:
    """Decides which camera frames are worth decoding, and which may get the rescue pass.

    - a frame that changed (see ChangeDetector): decode, rescue allowed; the
      gate stays *active* for ``active_for`` seconds;
    - the first still frame after a change (the phone has stopped moving):
      decode, rescue allowed;
    - while active: decode one still frame every ``active_every`` seconds
      (a phone held still after a blurred first frame is still read soon);
    - a still scene after that: one decode every ``idle_every`` seconds,
      as a safety net (a code held perfectly still since before).

    An empty room thus costs a thumbnail per frame and one decode every few
    seconds instead of a decode per frame. The rescue pass has its own bound
    (RescuingDecoder, at most once a second), and a scene it already searched
    in vain (``barren()``, the last few remembered) is not searched again
    until it changes: ~10x a plain decode each time, for nothing.
    """

    BARREN_KEPT = 4

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, active_for: float = 3.0, active_every: float = 0.5,
                 idle_every: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.detector = ChangeDetector(threshold)
        self.active_for = active_for
        self.active_every = active_every
        self.idle_every = idle_every
        self._clock = clock
        self._active_until = float("-inf")
        self._last_decode = float("-inf")
        self._settling = False
        self._barren: list[np.ndarray] = []
        self.skipped = 0

    @property
    def active(self) -> bool:
        """Something moved in front of the camera within the last ``active_for`` seconds."""
        return self._clock() < self._active_until

    def decide(self, image: np.ndarray) -> int:
        """SKIP, DECODE or DECODE_RESCUE for this frame."""
        now = self._clock()
        if self.detector.changed(image):
            self._active_until = now + self.active_for
            self._settling = True
            verdict = self._rescue_unless_barren()
        elif self._settling:
            self._settling = False
            verdict = self._rescue_unless_barren()
        elif now - self._last_decode >= (self.active_every if now < self._active_until else self.idle_every):
            verdict = DECODE
        else:
            self.skipped += 1
            return SKIP
        self._last_decode = now
        return verdict

    def _rescue_unless_barren(self) -> int:
        thumb = self.detector.last
        if any(difference(thumb, b) <= self.detector.threshold for b in self._barren):
            return DECODE
        return DECODE_RESCUE

    def barren(self) -> None:
        """The rescue pass found nothing in the frame last decided on: remember its scene."""
        if self.detector.last is not None:
            self._barren = (self._barren + [self.detector.last])[-self.BARREN_KEPT:]

    def reset(self) -> None:
        self._barren = []
        self.detector.reset()
        self._active_until = float("-inf")
        self._last_decode = float("-inf")
        self._settling = False
