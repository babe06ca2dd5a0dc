"""Change detection that gates QR decoding and the attract preview, and the QR rescue pass."""

from __future__ import annotations

import cv2
import numpy as np

from kiosk.hardware.motion import DECODE, DECODE_RESCUE, SKIP, ChangeDetector, DecodeGate, difference, thumbnail
from kiosk.hardware.qr_decode import RescuingDecoder, make_decoder
from kiosk.hardware.qr_render import background, phone_scene

CODE = "ESSC1." + "x7Yk2Lq9" * 16


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def noisy(frame: np.ndarray, seed: int, sigma: float = 3.0) -> np.ndarray:
    """The same scene as a camera sensor delivers it twice: a little noise on every pixel."""
    rng = np.random.default_rng(seed)
    return np.clip(frame.astype(np.int16) + rng.normal(0, sigma, frame.shape).astype(np.int16), 0, 255).astype(np.uint8)


def test_sensor_noise_is_no_change_but_a_phone_is():
    room = background(seed=3)
    det = ChangeDetector()
    assert det.changed(noisy(room, 1))          # the first frame is always news
    assert not det.changed(noisy(room, 2))      # the same empty room again
    assert not det.changed(noisy(room, 3))
    assert det.changed(phone_scene(CODE, seed=5))  # a resident holds up a phone
    assert thumbnail(room).size < 80 * 60
    assert difference(thumbnail(room), None) == float("inf")


def test_gate_decodes_changes_and_settling_and_rarely_a_still_scene():
    clock = FakeClock()
    gate = DecodeGate(active_for=3.0, active_every=0.5, idle_every=2.0, clock=clock)
    room, phone = background(seed=3), phone_scene(CODE, seed=5)
    verdicts = []
    for i in range(60):  # 6 s of an empty room at 10 frames/s
        verdicts.append(gate.decide(noisy(room, i)))
        clock.t += 0.1
    # first frame (change) + its settling frame, then the active window and the idle safety net only
    assert verdicts[:2] == [DECODE_RESCUE, DECODE_RESCUE]
    assert sum(v != SKIP for v in verdicts) <= 10
    assert not gate.active
    assert gate.decide(phone) == DECODE_RESCUE   # the phone comes in
    clock.t += 0.1
    assert gate.decide(noisy(phone, 99, 1.0)) == DECODE_RESCUE  # held still: the settled frame, rescue allowed
    clock.t += 0.1
    assert gate.active
    decided = []
    for i in range(20):  # held still for 2 s: still decoded twice a second while active
        decided.append(gate.decide(noisy(phone, 100 + i, 1.0)))
        clock.t += 0.1
    assert 3 <= decided.count(DECODE) <= 4 and DECODE_RESCUE not in decided


def test_rescue_pass_reads_a_small_code_plain_zxing_misses_and_is_bounded():
    # The phone far from the camera: modules of about one pixel.
    frame = cv2.resize(phone_scene(CODE, seed=1), None, fx=0.33, fy=0.33, interpolation=cv2.INTER_AREA)
    plain = make_decoder("zxing")
    assert plain.decode(frame) == []
    clock = FakeClock()
    dec = RescuingDecoder(make_decoder("zxing"), every=1.0, clock=clock)
    assert dec.decode(frame) == [CODE]
    assert dec.decode(frame) == []          # within the same second: no second rescue pass
    assert dec.decode(frame, allow_rescue=False) == []
    clock.t += 1.0
    assert dec.decode(frame) == [CODE]
    assert dec.rescues == 2
    assert dec.decode(background(seed=7)) == []  # nothing invented from an empty wall


def test_a_scene_the_rescue_pass_found_empty_is_not_rescued_again_until_it_changes():
    clock = FakeClock()
    gate = DecodeGate(clock=clock)
    room, resident = background(seed=3), background(seed=11)
    assert gate.decide(room) == DECODE_RESCUE
    gate.barren()                                  # the rescue pass found nothing in the empty room
    clock.t += 0.1
    assert gate.decide(resident) == DECODE_RESCUE  # something else came into view
    gate.barren()
    clock.t += 0.1
    assert gate.decide(noisy(room, 5, 1.0)) == DECODE      # the room again: plain decode only
    clock.t += 0.1
    assert gate.decide(phone_scene(CODE, seed=5)) == DECODE_RESCUE  # a phone: a new scene
