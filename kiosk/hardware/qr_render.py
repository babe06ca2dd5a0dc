"""Render QR codes as a camera would see them on a phone (simulator frames).

Used by the simulated camera (show a fresh e-SSC code from the platform
simulator), the benchmark set generator and tests. Pure OpenCV/numpy plus the
``qrcode`` package; no Kivy.
"""

from __future__ import annotations

import cv2
import numpy as np
import qrcode
import qrcode.constants

#: Default scene size: the kiosk camera's 1280x720 frames.
SCENE_SIZE = (1280, 720)

_ECC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def qr_modules(text: str, ecc: str = "M", border: int = 4) -> np.ndarray:
    """The QR symbol as a bool matrix (True = dark module), quiet zone included."""
    q = qrcode.QRCode(error_correction=_ECC[ecc], border=border)
    q.add_data(text.encode("utf-8"))
    q.make(fit=True)
    return np.array(q.get_matrix(), dtype=bool)


def qr_image(text: str, module_px: int = 6, ecc: str = "M", border: int = 4) -> np.ndarray:
    """Greyscale image of the code, ``module_px`` pixels per module."""
    m = qr_modules(text, ecc, border)
    img = np.where(m, 0, 255).astype(np.uint8)
    return img.repeat(module_px, axis=0).repeat(module_px, axis=1)


def code_box(width: int = 360, height: int = 720) -> tuple[int, int, int]:
    """Where ``phone_screen`` draws the code: (x0, y0, side) in phone pixels,
    quiet zone included."""
    bezel = max(6, width // 30)
    top = height // 9
    side = int((width - 2 * bezel) * 0.8)
    x0 = (width - side) // 2
    y0 = top + height // 12 + (height - 2 * top - height // 12 - side) // 2
    return x0, y0, side


def phone_screen(text: str, width: int = 360, height: int = 720, ecc: str = "M",
                 screen_bgr: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """A phone (dark bezel, light screen) showing the e-SSC page with the code.

    Returns a BGR image ``height`` x ``width``; the code takes ~80 % of the
    screen width, as the e-SSC app shows it.
    """
    phone = np.full((height, width, 3), (25, 25, 28), np.uint8)
    bezel = max(6, width // 30)
    top = height // 9
    cv2.rectangle(phone, (bezel, top), (width - bezel, height - top), screen_bgr, -1)
    # App header bar (the e-SSC page has a coloured title strip).
    cv2.rectangle(phone, (bezel, top), (width - bezel, top + height // 12), (180, 90, 30), -1)
    code = qr_image(text, module_px=1, ecc=ecc)
    x0, y0, side = code_box(width, height)
    code = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    phone[y0:y0 + side, x0:x0 + side] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    # A few text-like lines under the code.
    for i in range(3):
        y = min(height - top - 12, y0 + side + 18 + i * 16)
        cv2.line(phone, (x0 + 20, y), (x0 + side - 20 - 40 * i, y), (150, 150, 150), 4)
    return phone


def background(size: tuple[int, int] = SCENE_SIZE, seed: int = 0) -> np.ndarray:
    """A plausible indoor background: gradient wall plus soft blobs, BGR."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(90, 170, 3)
    ramp = np.linspace(0.75, 1.15, w, dtype=np.float32)[None, :, None]
    img = np.clip(base[None, None, :] * ramp * np.ones((h, 1, 1), np.float32), 0, 255)
    for _ in range(6):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        r = int(rng.integers(40, 200))
        cv2.circle(img, c, r, [float(v) for v in rng.integers(40, 220, 3)], -1)
    img = cv2.GaussianBlur(img, (0, 0), 25)
    return img.astype(np.uint8)


def place(scene: np.ndarray, item: np.ndarray, center: tuple[float, float], height: int,
          tilt_deg: float = 0.0, roll_deg: float = 0.0, tilt_axis: str = "y") -> np.ndarray:
    """Paste ``item`` into ``scene`` scaled to ``height`` px, rotated by
    ``roll_deg`` in plane and tilted ``tilt_deg`` out of plane (perspective).
    Returns a new scene."""
    ih, iw = item.shape[:2]
    scale = height / ih
    w2, h2 = iw * scale / 2, ih * scale / 2
    # Corners in the item plane (3D, z = 0), tilt about y (or x) axis.
    pts = np.array([[-w2, -h2, 0], [w2, -h2, 0], [w2, h2, 0], [-w2, h2, 0]], np.float64)
    t = np.radians(tilt_deg)
    if tilt_axis == "y":
        rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    else:
        rot = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    p3 = pts @ rot.T
    focal = 1000.0
    dist = 1000.0
    proj = p3[:, :2] * (focal / (dist + p3[:, 2:3]))
    r = np.radians(roll_deg)
    rr = np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])
    proj = proj @ rr.T + np.array(center)
    src = np.array([[0, 0], [iw, 0], [iw, ih], [0, ih]], np.float32)
    m = cv2.getPerspectiveTransform(src, proj.astype(np.float32))
    sh, sw = scene.shape[:2]
    warped = cv2.warpPerspective(item, m, (sw, sh), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ih, iw), 255, np.uint8), m, (sw, sh), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    out = scene.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    return out.astype(np.uint8)


def phone_scene(text: str, size: tuple[int, int] = SCENE_SIZE, phone_height: int = 560,
                tilt_deg: float = 0.0, roll_deg: float = 0.0, seed: int = 0) -> np.ndarray:
    """A full camera frame (BGR) of a phone showing ``text`` as a QR code."""
    scene = background(size, seed)
    phone = phone_screen(text)
    return place(scene, phone, (size[0] / 2, size[1] / 2), phone_height, tilt_deg, roll_deg)
