"""`kiosk decode qr` as a user runs it: a subprocess on real image files."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest

from kiosk import ROOT
from kiosk.hardware.qr_render import background, phone_scene

CODE = "ESSC1.T." + "dGVzdC1jb2RlLWZvci10aGUta2lvc2stY2xpLTAxMjM0NTY3ODk" * 2


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "decode", "qr", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("qr")
    pos = d / "phone.png"
    cv2.imwrite(str(pos), phone_scene(CODE, tilt_deg=25, roll_deg=8, seed=3))
    neg = d / "wall.jpg"
    cv2.imwrite(str(neg), background(seed=9))
    bad = d / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return pos, neg, bad, d / "missing.png"


@pytest.mark.parametrize("decoder", ["zxing", "pyzbar"])
def test_positive_and_negative_images(images, decoder):
    pos, neg, _bad, _missing = images
    res = run_cli("--decoder", decoder, str(pos), str(neg))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert lines == [
        {"image": str(pos), "texts": [CODE], "decoder": decoder},
        {"image": str(neg), "texts": [], "decoder": decoder},
    ]


def test_unreadable_files_give_error_lines_and_exit_1(images):
    pos, _neg, bad, missing = images
    res = run_cli(str(bad), str(pos), str(missing))
    assert res.returncode == 1
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [x["image"] for x in lines] == [str(bad), str(pos), str(missing)]
    assert "error" in lines[0] and "texts" not in lines[0]
    assert lines[1]["texts"] == [CODE]  # later images are still decoded
    assert "error" in lines[2]
    assert lines[1]["decoder"] == "zxing"  # the configured default


def test_camera_modules_do_not_import_kivy():
    code = ("import sys, kiosk.hardware.camera, kiosk.hardware.qr_decode, kiosk.hardware.qr_scanner, "
            "kiosk.hardware.qr_render, kiosk.flows.photo_quality, kiosk.commands.camera; "
            "print('kivy' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
