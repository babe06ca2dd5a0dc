"""Generate the QR benchmark set: phones showing e-SSC-length codes as a
1280x720 kiosk camera sees them, under the conditions real residents bring.

    /work/venv/bin/python bench/make_qr_set.py [--out bench/out/qr_set] [--seed 2026]

Deterministic for a seed. Writes JPEG frames (as a camera pipeline would
deliver them) and ``index.json`` = [{"file", "category", "text" (null for
negatives), "params"}]. Categories (count):

  clean 20, tilt 40 (perspective 15-45 deg), blur 30 (defocus / motion),
  noise 30, low_contrast 30 (dim screen + exposure), glare 30, moire 30,
  small 30 (phone far away), occlusion 30 (thumb over the quiet zone),
  hard 30 (tilt + blur + noise + smaller), negative 50 (no code).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.hardware.qr_render import (  # noqa: E402
    SCENE_SIZE, background, code_box, phone_screen, place, qr_modules,
)

OUT = ROOT / "bench" / "out" / "qr_set"
COUNTS = {"clean": 20, "tilt": 40, "blur": 30, "noise": 30, "low_contrast": 30, "glare": 30,
          "moire": 30, "small": 30, "occlusion": 30, "hard": 30, "negative": 50}


def essc_payload(rng: np.random.Generator) -> str:
    """An opaque, signed-token-like string of e-SSC length (~110-210 chars)."""
    body = base64.urlsafe_b64encode(rng.bytes(int(rng.integers(60, 140)))).decode().rstrip("=")
    return f"ESSC1.{rng.integers(100000, 999999)}.{body}"


def _scene(rng, backgrounds):
    return backgrounds[int(rng.integers(len(backgrounds)))].copy()


def _place_phone(rng, phone, scene, height=None, tilt=None, roll=None):
    h = height if height is not None else int(rng.integers(430, 620))
    cx = SCENE_SIZE[0] / 2 + rng.uniform(-250, 250)
    cy = SCENE_SIZE[1] / 2 + rng.uniform(-40, 40)
    t = tilt if tilt is not None else rng.uniform(-10, 10)
    r = roll if roll is not None else rng.uniform(-15, 15)
    axis = "y" if rng.random() < 0.6 else "x"
    return place(scene, phone, (cx, cy), h, t, r, axis), dict(height=h, tilt=round(float(t), 1),
                                                             roll=round(float(r), 1), axis=axis)


def _blur(rng, img):
    if rng.random() < 0.5:
        s = rng.uniform(1.0, 3.0)
        return cv2.GaussianBlur(img, (0, 0), s), {"defocus_sigma": round(float(s), 2)}
    n = int(rng.integers(5, 15))
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0 / n
    rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
    k = cv2.warpAffine(k, rot, (n, n))
    k /= k.sum()
    return cv2.filter2D(img, -1, k), {"motion_px": n}


def _noise(rng, img, sigma=None):
    s = sigma if sigma is not None else rng.uniform(10, 35)
    noisy = img.astype(np.float32) + rng.normal(0, s, img.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8), {"noise_sigma": round(float(s), 1)}


def _low_contrast(rng, phone):
    lo, hi = rng.uniform(70, 110), rng.uniform(140, 175)  # dim, washed-out screen
    out = (lo + phone.astype(np.float32) * (hi - lo) / 255.0).astype(np.uint8)
    return out, {"screen_range": [round(float(lo)), round(float(hi))]}


def _glare(rng, phone):
    h, w = phone.shape[:2]
    x0, y0, side = code_box(w, h)
    cx = x0 + rng.uniform(0.1, 0.9) * side
    cy = y0 + rng.uniform(0.1, 0.9) * side
    mask = np.zeros((h, w), np.float32)
    ax = (int(side * rng.uniform(0.12, 0.3)), int(side * rng.uniform(0.06, 0.18)))
    cv2.ellipse(mask, (int(cx), int(cy)), ax, rng.uniform(0, 180), 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), side * 0.04)
    strength = rng.uniform(0.6, 0.95)
    out = phone.astype(np.float32) * (1 - strength * mask[..., None]) + 255 * strength * mask[..., None]
    return out.astype(np.uint8), {"glare_strength": round(float(strength), 2), "glare_axes": list(ax)}


def _moire(rng, phone):
    h, w = phone.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(6, 18)
    ang = rng.uniform(0, np.pi)
    wave = np.sin(2 * np.pi * (xx * np.cos(ang) + yy * np.sin(ang)) / period)
    amp = rng.uniform(0.15, 0.35)
    tint = np.array([rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)], np.float32)
    out = phone.astype(np.float32) * (1 - amp * (0.5 + 0.5 * wave))[..., None] * tint + 20 * amp
    return np.clip(out, 0, 255).astype(np.uint8), {"moire_period": round(float(period), 1), "moire_amp": round(float(amp), 2)}


def _occlude(rng, phone, n_modules):
    h, w = phone.shape[:2]
    x0, y0, side = code_box(w, h)
    out = phone.copy()
    skin = (int(rng.integers(120, 170)), int(rng.integers(150, 190)), int(rng.integers(200, 235)))
    # The drawn code is n_modules wide, 4 of them quiet zone on each side;
    # a thumb covers most of one side's quiet zone, sometimes a module more.
    qz = 4 * side / n_modules
    edge = rng.choice(["left", "right", "bottom", "top"])
    depth = rng.uniform(0.6, 1.2) * qz  # up to a little past the quiet zone
    along = rng.uniform(0.35, 0.7) * side
    start = rng.uniform(0, side - along)
    if edge == "left":
        rect = (x0 - 30, y0 + start, x0 + depth, y0 + start + along)
    elif edge == "right":
        rect = (x0 + side - depth, y0 + start, x0 + side + 30, y0 + start + along)
    elif edge == "top":
        rect = (x0 + start, y0 - 30, x0 + start + along, y0 + depth)
    else:
        rect = (x0 + start, y0 + side - depth, x0 + start + along, y0 + side + 30)
    xa, ya, xb, yb = (int(v) for v in rect)
    cv2.rectangle(out, (xa, ya), (xb, yb), skin, -1)
    cv2.ellipse(out, ((xa + xb) // 2, (ya + yb) // 2), ((xb - xa) // 2, (yb - ya) // 2), 0, 0, 360,
                tuple(int(c * 0.85) for c in skin), 3)
    return out, {"edge": str(edge), "depth_modules": round(float(depth / qz * 4), 1)}


def negative(rng, backgrounds, i):
    kind = i % 5
    scene = _scene(rng, backgrounds)
    if kind == 0:
        return scene, {"kind": "background"}
    if kind == 1:  # phone with a blank page
        phone = phone_screen("x")
        x0, y0, side = code_box()
        phone[y0:y0 + side, x0:x0 + side] = 255
        img, p = _place_phone(rng, phone, scene)
        return img, {"kind": "phone_no_code", **p}
    if kind == 2:  # phone with a text-like page (lines of "characters")
        phone = phone_screen("x")
        x0, y0, side = code_box()
        phone[y0:y0 + side, x0:x0 + side] = 255
        for r in range(12):
            for c in range(10):
                if rng.random() < 0.8:
                    cv2.rectangle(phone, (x0 + 8 + c * 24, y0 + 8 + r * 22), (x0 + 24 + c * 24, y0 + 24 + r * 22),
                                  (40, 40, 40), 2)
        img, p = _place_phone(rng, phone, scene)
        return img, {"kind": "phone_text", **p}
    if kind == 3:  # checkerboard / tiled floor
        sq = int(rng.integers(8, 30))
        yy, xx = np.mgrid[0:SCENE_SIZE[1], 0:SCENE_SIZE[0]]
        board = (((yy // sq) + (xx // sq)) % 2 * 200 + 30).astype(np.uint8)
        return cv2.cvtColor(board, cv2.COLOR_GRAY2BGR), {"kind": "checkerboard", "square": sq}
    noise = rng.integers(0, 256, (SCENE_SIZE[1] // 8, SCENE_SIZE[0] // 8), dtype=np.uint8)
    noise = cv2.resize(noise, SCENE_SIZE, interpolation=cv2.INTER_NEAREST)  # random blocks, QR-like texture
    return cv2.cvtColor(noise, cv2.COLOR_GRAY2BGR), {"kind": "random_blocks"}


def make_item(rng, category, backgrounds):
    text = essc_payload(rng)
    phone = phone_screen(text)
    scene = _scene(rng, backgrounds)
    params: dict = {}
    if category == "clean":
        img, params = _place_phone(rng, phone, scene)
    elif category == "tilt":
        t = rng.uniform(15, 45) * rng.choice([-1, 1])
        img, params = _place_phone(rng, phone, scene, tilt=t)
    elif category == "blur":
        img, p0 = _place_phone(rng, phone, scene)
        img, p1 = _blur(rng, img)
        params = {**p0, **p1}
    elif category == "noise":
        img, p0 = _place_phone(rng, phone, scene)
        img, p1 = _noise(rng, img)
        params = {**p0, **p1}
    elif category == "low_contrast":
        phone, p0 = _low_contrast(rng, phone)
        img, p1 = _place_phone(rng, phone, scene)
        img = cv2.convertScaleAbs(img, alpha=0.6, beta=rng.uniform(10, 60))  # under-exposed camera
        params = {**p0, **p1}
    elif category == "glare":
        phone, p0 = _glare(rng, phone)
        img, p1 = _place_phone(rng, phone, scene)
        params = {**p0, **p1}
    elif category == "moire":
        phone, p0 = _moire(rng, phone)
        img, p1 = _place_phone(rng, phone, scene)
        params = {**p0, **p1}
    elif category == "small":
        img, params = _place_phone(rng, phone, scene, height=int(rng.integers(200, 330)))
    elif category == "occlusion":
        phone, p0 = _occlude(rng, phone, qr_modules(text).shape[0])
        img, p1 = _place_phone(rng, phone, scene)
        params = {**p0, **p1}
    elif category == "hard":
        t = rng.uniform(20, 40) * rng.choice([-1, 1])
        img, p0 = _place_phone(rng, phone, scene, height=int(rng.integers(300, 450)), tilt=t)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 1.8))
        img, p1 = _noise(rng, img, rng.uniform(6, 18))
        params = {**p0, **p1}
    else:
        raise ValueError(category)
    return img, text, params


def build(out: Path = OUT, seed: int = 2026, quiet: bool = False) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    backgrounds = [background(SCENE_SIZE, seed + k) for k in range(12)]
    index = []
    n = 0
    for category, count in COUNTS.items():
        for i in range(count):
            if category == "negative":
                img, params = negative(rng, backgrounds, i)
                text = None
            else:
                img, text, params = make_item(rng, category, backgrounds)
            name = f"{n:03d}_{category}.jpg"
            cv2.imwrite(str(out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            index.append({"file": name, "category": category, "text": text, "params": params})
            n += 1
    (out / "index.json").write_text(json.dumps({"seed": seed, "items": index}, indent=1))
    if not quiet:
        print(f"wrote {n} frames ({sum(1 for x in index if x['text'])} with a code) to {out}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    build(args.out, args.seed)


if __name__ == "__main__":
    main()
