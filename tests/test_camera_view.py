"""CameraView in a real Kivy window under Xvfb: what the screen shows.

Runs a small app in a subprocess (Kivy opens a window on import) with an
isolated KIVY_HOME; starts its own Xvfb when DISPLAY is unset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from kiosk import ROOT

PROBE = r'''
import json, os, sys
import cv2, numpy as np
from kivy.config import Config
Config.set("graphics", "width", "640")
Config.set("graphics", "height", "480")
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kiosk.hardware.camera import SimCamera
from kiosk.screens.camera_view import CameraView

frames, shot, mirror = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

class Probe(App):
    def build(self):
        self.cam = SimCamera(frames, fps=30)
        self.view = CameraView(camera=self.cam, fps=30, mirror=mirror, owns_camera=True)
        return self.view

    def on_start(self):
        self.view.start()
        self.ticks = 0
        Clock.schedule_interval(self.check, 0.1)

    def check(self, dt):
        self.ticks += 1
        if self.view.frames_shown >= 20 or self.ticks > 100:
            Window.screenshot(name=shot)
            self.view.stop()
            self.view.stop()
            print(json.dumps({"frames_shown": self.view.frames_shown,
                              "textures_created": self.view.textures_created,
                              "camera_status": self.cam.status,
                              "event_cancelled": not self.view.running,
                              "texture_size": list(self.view._texture.size),
                              "snapshot": list(self.view.snapshot().shape) if self.view.snapshot() is not None else None}))
            self.stop()
            return False

Probe().run()
'''


@pytest.fixture(scope="module")
def display(xdisplay):
    """The session's X display (conftest: $DISPLAY or one Xvfb for the whole run)."""
    return xdisplay


def two_tone(path, size=(320, 240)):
    """Top half red, bottom-left green, bottom-right blue (BGR on disk)."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2] = (0, 0, 255)
    img[h // 2:, : w // 2] = (0, 255, 0)
    img[h // 2:, w // 2:] = (255, 0, 0)
    cv2.imwrite(str(path), img)


def run_probe(tmp_path, display, mirror: bool, size=(320, 240)):
    frames = tmp_path / "frames"
    frames.mkdir()
    two_tone(frames / "a.png", size)
    two_tone(frames / "b.png", size)
    shot = tmp_path / "shot.png"
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = dict(os.environ, DISPLAY=display, KIVY_HOME=str(tmp_path / "kivy"), KIVY_NO_ARGS="1",
               KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, str(script), str(frames), str(shot), "1" if mirror else "0"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    shots = sorted(tmp_path.glob("shot*.png"))  # Kivy numbers the screenshot file
    assert shots, "no screenshot"
    return result, cv2.imread(str(shots[-1]))


def colour(img, x, y):
    b, g, r = (int(v) for v in img[y, x])
    return "red" if r > 200 and g < 60 and b < 60 else "green" if g > 200 and r < 60 else \
        "blue" if b > 200 and r < 60 and g < 60 else "black" if max(r, g, b) < 30 else f"({r},{g},{b})"


def test_preview_shows_frames_upright_with_one_texture(tmp_path, display):
    result, shot = run_probe(tmp_path, display, mirror=False)
    assert result["frames_shown"] >= 20
    assert result["textures_created"] == 1
    assert result["event_cancelled"] and result["camera_status"] == "closed"
    assert result["snapshot"] == [240, 320, 3]
    h, w = shot.shape[:2]  # 640x480 window, 320x240 frame letter-boxed to fill it
    assert colour(shot, w // 2, h // 4) == "red"          # top stays on top
    assert colour(shot, w // 4, 3 * h // 4) == "green"    # left stays left
    assert colour(shot, 3 * w // 4, 3 * h // 4) == "blue"


def test_a_frame_larger_than_the_preview_is_uploaded_at_the_preview_size(tmp_path, display):
    """Issue 16 (memory): the attract screen's 240x135 preview kept a 1280x720 texture."""
    result, shot = run_probe(tmp_path, display, mirror=False, size=(1280, 960))
    assert result["texture_size"] == [640, 480]  # the 640x480 window, not the 1280x960 frame
    assert result["snapshot"] == [960, 1280, 3]  # the capture keeps the camera's full frame
    h, w = shot.shape[:2]
    assert colour(shot, w // 2, h // 4) == "red"
    assert colour(shot, w // 4, 3 * h // 4) == "green"
    assert colour(shot, 3 * w // 4, 3 * h // 4) == "blue"


def test_mirrored_preview_swaps_left_and_right(tmp_path, display):
    result, shot = run_probe(tmp_path, display, mirror=True)
    assert result["textures_created"] == 1
    h, w = shot.shape[:2]
    assert colour(shot, w // 2, h // 4) == "red"
    assert colour(shot, w // 4, 3 * h // 4) == "blue"
    assert colour(shot, 3 * w // 4, 3 * h // 4) == "green"


def test_building_a_camera_preview_does_not_load_opencv_before_its_first_frame():
    """The attract screen's QR preview is built before the first frame is drawn; OpenCV and
    numpy (~0.16 s to import) load with the camera's first frame, after it (issue 16, cold start)."""
    code = ("import os, sys; os.environ['KIVY_NO_ARGS'] = '1';"
            "from kiosk.screens.camera_view import CameraView;"
            "view = CameraView(only_changes=True); view.clear();"
            "print(sorted({'cv2', 'numpy'} & set(sys.modules)))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), KIVY_NO_CONSOLELOG="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
