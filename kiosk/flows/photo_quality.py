"""Quality gates for the eligibility-certification photo (service item 21).

Pure functions on a BGR numpy image: ``check_photo(image, thresholds)``
returns a ``PhotoVerdict`` whose ``message_zh`` tells the resident what to
change; ``compress_jpeg`` makes the accepted photo small enough to upload.

Faces come from OpenCV's bundled Haar cascade (``cv2.data.haarcascades``,
frontal face). The resident holds the ID card beside the face, and the card
carries a small portrait that the detector also finds; faces much smaller
than the largest one (``secondary_face_ratio``) are therefore not counted as
a second person.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kiosk.core.errors import ConfigError, KioskError

log = logging.getLogger("kiosk.photo")

CASCADE_FILE = "haarcascade_frontalface_default.xml"
ANALYSIS_WIDTH = 640  # larger images are analysed at this width, so thresholds don't depend on the camera mode
FACE_SIDE = 128  # the face is compared for sharpness at this size, near or far

MESSAGES_ZH = {
    "too_dark": "光线太暗，请站到明亮的地方或打开灯后重拍。",
    "too_bright": "光线太亮，请避开强光或窗户后重拍。",
    "no_face": "没有检测到人脸，请正对镜头，露出整张脸后重拍。",
    "many_faces": "画面中有多个人，请只留本人在镜头前后重拍。",
    "face_too_small": "人脸太小，请再靠近镜头一些后重拍。",
    "blurry": "照片不够清晰，请保持不动，等倒计时结束后再动。",
}
# Order in which problems are reported: the first one is the one to fix first
# (a dark picture also hides the face, so light comes before faces).
PRIORITY = ("too_dark", "too_bright", "no_face", "many_faces", "face_too_small", "blurry")


class PhotoQualityError(KioskError):
    """Raised by ``PhotoVerdict.raise_if_rejected``; message_zh says what to change."""

    message_zh = "照片不符合要求，请重拍。"


@dataclass(frozen=True)
class PhotoThresholds:
    """Gate thresholds (the lead fills these from config)."""

    min_sharpness: float = 40.0  # variance of the Laplacian over the face scaled to 128x128
    min_brightness: float = 60.0  # mean grey level 0..255
    max_brightness: float = 200.0
    min_face_width: float = 0.12  # face width / image width
    secondary_face_ratio: float = 0.5  # faces narrower than this x the largest are ignored (ID card portrait)
    max_jpeg_bytes: int = 200_000
    max_side: int = 1280  # longest side of the uploaded JPEG


@dataclass(frozen=True)
class PhotoProblem:
    code: str  # one of PRIORITY
    message_zh: str  # what the resident should do
    detail: str  # precise English for the log


@dataclass(frozen=True)
class PhotoVerdict:
    problems: list[PhotoProblem]
    faces: list[tuple[int, int, int, int]] = field(default_factory=list)  # x, y, w, h in input pixels
    brightness: float = 0.0
    sharpness: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    @property
    def message_zh(self) -> str:
        """The one message to show (empty when the photo is accepted)."""
        return self.problems[0].message_zh if self.problems else ""

    def raise_if_rejected(self) -> None:
        if self.problems:
            p = self.problems[0]
            raise PhotoQualityError(f"photo rejected: {'; '.join(x.detail for x in self.problems)}", p.message_zh)


_cascade_lock = threading.Lock()
_cascade: cv2.CascadeClassifier | None = None


def _face_cascade() -> cv2.CascadeClassifier:
    global _cascade
    with _cascade_lock:
        if _cascade is None:
            cascades = getattr(cv2, "data").haarcascades  # noqa: B009 - cv2.data is missing from its stubs
            path = Path(cascades) / CASCADE_FILE
            clf = cv2.CascadeClassifier(str(path)) if path.exists() else None
            if clf is None or clf.empty():
                raise ConfigError(
                    f"OpenCV face cascade {path} missing (needs opencv-python-headless < 5)",
                    "拍照功能暂时无法使用，请联系工作人员。",
                )
            _cascade = clf
        return _cascade


def detect_faces(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Frontal faces in a greyscale image at analysis scale, largest first."""
    eq = cv2.equalizeHist(gray)
    min_side = 24  # the cascade's own window
    clf = _face_cascade()
    with _cascade_lock:  # one classifier object is not safe for concurrent detectMultiScale
        found = clf.detectMultiScale(eq, scaleFactor=1.05, minNeighbors=5, minSize=(min_side, min_side))
    faces = [(int(x), int(y), int(w), int(h)) for x, y, w, h in (found if len(found) else [])]
    return sorted(faces, key=lambda f: f[2] * f[3], reverse=True)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: low for a blurred or shaken picture."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def check_photo(image: np.ndarray, t: PhotoThresholds = PhotoThresholds()) -> PhotoVerdict:
    """Run every gate; the verdict lists all failures, most important first."""
    if image is None or image.ndim not in (2, 3) or image.size == 0:
        raise PhotoQualityError("photo check: empty or malformed image", "拍照失败，请重拍。")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # Only ever shrink: upscaling invents smooth edges that fool the detector.
    scale = min(1.0, ANALYSIS_WIDTH / gray.shape[1])
    width = round(gray.shape[1] * scale)
    small = (
        gray
        if scale == 1.0
        else cv2.resize(gray, (width, max(1, round(gray.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    )
    found: dict[str, str] = {}

    brightness = float(small.mean())
    if brightness < t.min_brightness:
        found["too_dark"] = f"mean brightness {brightness:.0f} < {t.min_brightness:.0f}"
    elif brightness > t.max_brightness:
        found["too_bright"] = f"mean brightness {brightness:.0f} > {t.max_brightness:.0f}"

    faces = detect_faces(small)
    if faces:
        largest_w = faces[0][2]
        faces = [f for f in faces if f[2] >= t.secondary_face_ratio * largest_w]
    sharp = sharpness(small)
    if not faces:
        found["no_face"] = "no frontal face found"
    else:
        if len(faces) > 1:
            found["many_faces"] = f"{len(faces)} faces of similar size"
        x, y, w, h = faces[0]
        frac = w / width
        if frac < t.min_face_width:
            found["face_too_small"] = f"face width {frac:.2f} of image < {t.min_face_width:.2f}"
        # Sharpness over the face: a plain wall behind a sharp face must not fail it.
        interp = cv2.INTER_AREA if w >= FACE_SIDE else cv2.INTER_LINEAR
        roi = cv2.resize(small[y : y + h, x : x + w], (FACE_SIDE, FACE_SIDE), interpolation=interp)
        sharp = sharpness(roi)
    if sharp < t.min_sharpness and "no_face" not in found:
        found["blurry"] = f"sharpness {sharp:.1f} < {t.min_sharpness:.1f}"

    problems = [PhotoProblem(c, MESSAGES_ZH[c], found[c]) for c in PRIORITY if c in found]
    inv = 1 / scale
    faces_px = [(round(x * inv), round(y * inv), round(w * inv), round(h * inv)) for x, y, w, h in faces]
    verdict = PhotoVerdict(problems, faces_px, brightness, sharp)
    log.info(
        "photo check: %s (brightness %.0f, sharpness %.1f, faces %d)",
        "accepted" if verdict.ok else ",".join(verdict.codes),
        brightness,
        sharp,
        len(faces),
    )
    return verdict


def compress_jpeg(image: np.ndarray, max_bytes: int = 200_000, max_side: int = 1280, min_quality: int = 40) -> bytes:
    """Encode as JPEG no larger than ``max_bytes``: shrink to ``max_side``,
    then lower the quality (binary search), then shrink further if needed."""
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    for _ in range(8):
        lo, hi, best = min_quality, 92, None
        while lo <= hi:
            q = (lo + hi) // 2
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise PhotoQualityError("photo: JPEG encoding failed", "拍照失败，请重拍。")
            if len(buf) <= max_bytes:
                best, lo = buf, q + 1
            else:
                hi = q - 1
        if best is not None:
            return best.tobytes()
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(1, round(w * 0.75)), max(1, round(h * 0.75))), interpolation=cv2.INTER_AREA)
    raise PhotoQualityError(f"photo: cannot fit JPEG in {max_bytes} bytes", "照片处理失败，请重拍。")
