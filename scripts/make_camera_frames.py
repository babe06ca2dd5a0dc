"""Generate the simulated camera's sample frames under images/sim/camera/.

    /work/venv/bin/python scripts/make_camera_frames.py

Deterministic (fixed seeds). The only photo used is images/sim/faces/
astronaut.jpg (public domain, see images/sim/faces/README.md); everything
else is drawn here. Output:

  images/sim/camera/            default sim source: an empty scene and a resident holding an ID card
  images/sim/camera/qr/         phones showing e-SSC-like codes (and one without a code)
  images/sim/camera/photo/      certification photos that pass / fail each quality gate
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.hardware.qr_render import background, phone_scene, phone_screen, place  # noqa: E402

OUT = ROOT / "images" / "sim" / "camera"
FACE = ROOT / "images" / "sim" / "faces" / "astronaut.jpg"
SIZE = (1280, 720)
DEMO_CODE = "ESSC1.DEMO." + "Q0hOLUVTU0MtREVNTy1OT1QtQS1SRUFMLUNPREUtMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"


def id_card(width: int = 300, portrait: np.ndarray | None = None) -> np.ndarray:
    """A second-generation ID card face (85.6 x 54 mm), drawn."""
    h = round(width * 54 / 85.6)
    card = np.full((h, width, 3), (235, 225, 205), np.uint8)
    cv2.rectangle(card, (0, 0), (width - 1, h - 1), (170, 150, 120), 3)
    for i in range(5):
        y = 30 + i * (h - 50) // 5
        cv2.line(card, (18, y), (int(width * 0.55), y), (90, 80, 70), 5)
    if portrait is not None:
        pw = int(width * 0.3)
        ph = round(pw * 1.25)
        card[18:18 + ph, width - pw - 16:width - 16] = cv2.resize(portrait, (pw, ph), interpolation=cv2.INTER_AREA)
    return card


def resident_with_card(face: np.ndarray, seed: int = 3) -> np.ndarray:
    """Head-and-shoulders crop of the photo with an ID card held beside it."""
    crop = face[0:330, 80:370]  # around the face of the 512x512 photo
    scale = SIZE[1] / crop.shape[0]
    person = cv2.resize(crop, (round(crop.shape[1] * scale), SIZE[1]), interpolation=cv2.INTER_CUBIC)
    scene = background(SIZE, seed)
    x0 = 260
    scene[:, x0:x0 + person.shape[1]] = person
    portrait = face[60:170, 170:280]
    card = id_card(330, portrait)
    return place(scene, card, (x0 + person.shape[1] + 230, 430), card.shape[0], tilt_deg=10, roll_deg=-4)


def main() -> None:
    face = cv2.imread(str(FACE))
    if face is None:
        raise SystemExit(f"missing {FACE}")
    for sub in ("", "qr", "photo"):
        (OUT / sub).mkdir(parents=True, exist_ok=True)
    jpg = [cv2.IMWRITE_JPEG_QUALITY, 88]

    good = resident_with_card(face)
    cv2.imwrite(str(OUT / "01_empty_scene.jpg"), background(SIZE, 7), jpg)
    cv2.imwrite(str(OUT / "02_resident_with_id_card.jpg"), good, jpg)

    cv2.imwrite(str(OUT / "qr" / "phone_essc_demo.jpg"), phone_scene(DEMO_CODE, seed=1), jpg)
    cv2.imwrite(str(OUT / "qr" / "phone_essc_tilted.jpg"),
                phone_scene(DEMO_CODE, tilt_deg=35, roll_deg=12, phone_height=480, seed=2), jpg)
    blank = phone_screen("x")
    blank[100:620, 14:346] = 255  # screen without a code
    cv2.imwrite(str(OUT / "qr" / "phone_no_code.jpg"),
                place(background(SIZE, 4), blank, (640, 360), 560), jpg)

    photo = OUT / "photo"
    cv2.imwrite(str(photo / "pass.jpg"), good, jpg)
    cv2.imwrite(str(photo / "fail_blurry.jpg"), cv2.GaussianBlur(good, (0, 0), 4), jpg)
    cv2.imwrite(str(photo / "fail_too_dark.jpg"), (good * 0.25).astype(np.uint8), jpg)
    cv2.imwrite(str(photo / "fail_too_bright.jpg"), cv2.convertScaleAbs(good, alpha=0.45, beta=160), jpg)
    two = background(SIZE, 5)
    small = cv2.resize(face[0:330, 80:370], (290 * 2, 330 * 2))
    two[30:690, 20:600] = small
    two[30:690, 680:1260] = cv2.flip(small, 1)
    cv2.imwrite(str(photo / "fail_two_faces.jpg"), two, jpg)
    far = background(SIZE, 6)
    far[260:572, 540:740] = cv2.resize(face[0:330, 80:370], (200, 312))  # face ~ 0.07 of width
    cv2.imwrite(str(photo / "fail_face_too_small.jpg"), far, jpg)
    cv2.imwrite(str(photo / "fail_no_face.jpg"), background(SIZE, 8), jpg)
    print(f"wrote frames under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
