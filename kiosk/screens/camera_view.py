"""Live camera preview widget.

``CameraView`` polls ``camera.latest()`` from a Kivy Clock event (so the UI
thread never waits on the camera) and draws the frame letter-boxed into the
widget. It creates ONE texture and ``blit_buffer``s every new frame into it
(a texture per frame leaks GPU memory in Kivy); colour conversion BGR->RGB
happens in OpenCV; the vertical flip (OpenCV rows top-down, GL bottom-up)
and the optional mirror are done with texture coordinates, for free.

Use from a screen::

    view = CameraView(camera=cam, fps=15, mirror=True, owns_camera=True)
    on_enter: view.start()      # starts the camera too when owns_camera
    on_leave: view.stop()       # cancels the Clock event, closes the camera

Overlays (face-and-card frame, countdown) go on top as ordinary widgets.

With ``only_changes`` a frame is drawn only when the picture differs from the
one on screen by more than sensor noise (kiosk.hardware.motion, through the
device hub): Kivy
redraws the whole window for any canvas change, which on software GL costs
tens of percent of a core at 10 frames a second, for a preview of an empty
room that does not change.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty
from kivy.uix.widget import Widget

from kiosk.devices import frame_change_detector

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("kiosk.camera")


class CameraView(Widget):
    camera = ObjectProperty(None, allownone=True)  # anything with latest() -> Frame | None
    fps = NumericProperty(15)           # preview refresh rate (Clock interval)
    mirror = BooleanProperty(False)     # selfie view for the photo screen
    owns_camera = BooleanProperty(False)  # start()/stop() also start/close the camera
    background = ListProperty([0, 0, 0, 1])
    only_changes = BooleanProperty(False)  # draw only frames whose picture changed (else every new frame)
    frames_shown = NumericProperty(0)
    frames_unchanged = NumericProperty(0)  # new frames not drawn because the picture was the same
    textures_created = NumericProperty(0)
    #: where the picture is drawn (x, y, w, h in window units; letterboxed): overlays align to it
    picture = ListProperty([0, 0, 0, 0])

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._event = None
        self._last_seq = -1
        self._texture: Texture | None = None
        self._last_image: np.ndarray | None = None
        # OpenCV and numpy (~0.16 s to import) load with the first frame, which comes after
        # the attract screen's first draw: a widget built before it must not pull them in.
        self._change: Any = None  # kiosk.hardware.motion.ChangeDetector
        with self.canvas:
            self._bg_color = Color(*self.background)
            self._bg = Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            self._rect = Rectangle(pos=self.pos, size=(0, 0))
        self.bind(pos=self._layout, size=self._layout, mirror=self._update_tex_coords,
                  background=lambda *_: setattr(self._bg_color, "rgba", self.background))

    # -- public ---------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._event is not None

    def start(self) -> None:
        """Begin refreshing (and start the camera if owns_camera). Idempotent."""
        if self.owns_camera and self.camera is not None:
            self.camera.start()
        if self._event is None:
            self._event = Clock.schedule_interval(self._tick, 1.0 / max(1.0, float(self.fps)))

    def stop(self) -> None:
        """Stop refreshing (and close the camera if owns_camera). Idempotent."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.owns_camera and self.camera is not None:
            self.camera.close()
        self._last_seq = -1

    def clear(self) -> None:
        """Forget the last frame (a resident's face) and blank the picture."""
        self._last_image = None
        self._last_seq = -1
        if self._change is not None:
            self._change.reset()
        self._rect.size = (0, 0)

    def snapshot(self) -> np.ndarray | None:
        """The BGR frame now on screen (for the capture after the countdown)."""
        return None if self._last_image is None else self._last_image.copy()

    # -- internals ------------------------------------------------------------
    def _tick(self, _dt: float) -> None:
        cam = self.camera
        frame = cam.latest() if cam is not None else None
        if frame is None or frame.seq == self._last_seq:
            return
        self._last_seq = frame.seq
        import cv2
        import numpy as np

        image = frame.image
        if self._change is None:
            self._change = frame_change_detector()
        if self.only_changes and self._texture is not None and self._rect.size != (0, 0):
            if not self._change.changed(image):
                self.frames_unchanged += 1
                return
        shown = image
        fit = min(self.width / image.shape[1], self.height / image.shape[0])
        if self.width >= 16 and self.height >= 16 and fit < 1.0:
            # A 1280x720 frame in a 240x135 preview: upload (and keep, twice on software GL)
            # only the pixels the widget can show, not a 3.5 MB texture.
            size = (max(1, round(image.shape[1] * fit)), max(1, round(image.shape[0] * fit)))
            shown = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        if shown.ndim == 2:
            rgb = cv2.cvtColor(shown, cv2.COLOR_GRAY2RGB)
        elif shown.shape[2] == 4:
            rgb = cv2.cvtColor(shown, cv2.COLOR_BGRA2RGB)
        else:
            rgb = cv2.cvtColor(shown, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        tex = self._texture
        if tex is None or tex.size != (w, h):
            # Only when the first frame arrives or the camera changes mode.
            tex = Texture.create(size=(w, h), colorfmt="rgb", bufferfmt="ubyte")
            self._texture = tex
            self.textures_created += 1
            self._rect.texture = tex
            self._update_tex_coords()
            self._layout()
        tex.blit_buffer(np.ascontiguousarray(rgb).data.cast("B"), colorfmt="rgb", bufferfmt="ubyte")
        self._last_image = image
        self.frames_shown += 1
        self.canvas.ask_update()

    def _update_tex_coords(self, *_args) -> None:
        # OpenCV rows run top-down, GL textures bottom-up: flip v; mirror flips u.
        u0, u1 = (1.0, 0.0) if self.mirror else (0.0, 1.0)
        self._rect.tex_coords = (u0, 1.0, u1, 1.0, u1, 0.0, u0, 0.0)

    def _layout(self, *_args) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size
        tex = self._texture
        if tex is None or self.width <= 0 or self.height <= 0:
            self._rect.size = (0, 0)
            return
        tw, th = tex.size
        scale = min(self.width / tw, self.height / th)
        w, h = tw * scale, th * scale
        self._rect.size = (w, h)
        self._rect.pos = (self.x + (self.width - w) / 2, self.y + (self.height - h) / 2)
        self.picture = [*self._rect.pos, w, h]
