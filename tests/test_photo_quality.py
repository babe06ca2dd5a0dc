"""Quality gates of the eligibility-certification photo, each with its message."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk import IMAGES_DIR
from kiosk.flows.photo_quality import (
    MESSAGES_ZH, PhotoQualityError, PhotoThresholds, check_photo, compress_jpeg,
)
from kiosk.hardware.qr_render import background

FACE = cv2.imread(str(IMAGES_DIR / "sim" / "faces" / "astronaut.jpg"))
SIZE = (1280, 720)


def head_and_shoulders() -> np.ndarray:
    """A 720p frame with the face filling ~17 % of the width (arm's length)."""
    crop = FACE[0:330, 80:370]
    person = cv2.resize(crop, (round(crop.shape[1] * 720 / 330), 720), interpolation=cv2.INTER_CUBIC)
    scene = background(SIZE, 3)
    scene[:, 300:300 + person.shape[1]] = person
    return scene


GOOD = head_and_shoulders()


def test_good_photo_passes():
    v = check_photo(GOOD)
    assert v.ok and v.message_zh == "" and v.codes == []
    assert len(v.faces) == 1
    v.raise_if_rejected()  # no exception


def test_id_card_portrait_beside_the_face_is_not_a_second_person():
    img = GOOD.copy()
    portrait = cv2.resize(FACE[40:200, 150:300], (90, 96))
    img[500:596, 1000:1090] = portrait
    assert check_photo(img).ok


@pytest.mark.parametrize("code,make", [
    ("blurry", lambda g: cv2.GaussianBlur(g, (0, 0), 4)),
    ("too_dark", lambda g: (g * 0.25).astype(np.uint8)),
    ("too_bright", lambda g: cv2.convertScaleAbs(g, alpha=0.45, beta=160)),
    ("no_face", lambda g: background(SIZE, 8)),
    ("many_faces", lambda g: np.hstack([g[:, 300:940], cv2.flip(g[:, 300:940], 1)])),
    ("face_too_small", lambda g: cv2.copyMakeBorder(cv2.resize(g, (640, 360)), 180, 180, 320, 320,
                                                    cv2.BORDER_CONSTANT, value=(120, 120, 120))),
])
def test_each_gate_fails_with_its_own_message(code, make):
    v = check_photo(make(GOOD))
    assert not v.ok
    assert v.codes[0] == code
    assert v.message_zh == MESSAGES_ZH[code]
    with pytest.raises(PhotoQualityError) as exc:
        v.raise_if_rejected()
    assert exc.value.message_zh == MESSAGES_ZH[code]


def test_messages_are_distinct_and_chinese():
    assert len(set(MESSAGES_ZH.values())) == len(MESSAGES_ZH)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in MESSAGES_ZH.values())


def test_thresholds_come_from_the_caller():
    strict = PhotoThresholds(min_face_width=0.5, min_brightness=10, max_brightness=250)
    assert check_photo(GOOD, strict).codes == ["face_too_small"]
    lax = PhotoThresholds(min_sharpness=0.0)
    assert check_photo(cv2.GaussianBlur(GOOD, (0, 0), 4), lax).ok


def test_compressed_jpeg_is_bounded_and_still_the_same_photo():
    big = cv2.resize(GOOD, (2560, 1440), interpolation=cv2.INTER_CUBIC)
    data = compress_jpeg(big, max_bytes=60_000, max_side=1280)
    assert len(data) <= 60_000 and data[:2] == b"\xff\xd8"
    back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert max(back.shape[:2]) <= 1280
    assert check_photo(back).ok


def test_empty_image_is_a_typed_error():
    with pytest.raises(PhotoQualityError):
        check_photo(np.zeros((0, 0, 3), np.uint8))
