"""QR decoders, de-duplication and the decoder worker on simulated frames."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from kiosk.hardware.camera import SimCamera
from kiosk.hardware.qr_decode import DecoderWorker, Deduplicator, make_decoder, to_gray, DecoderError
from kiosk.hardware.qr_render import background, phone_scene

CODE = "ESSC1." + "x7Yk2Lq9" * 16


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
def test_decoders_read_a_phone_frame_and_ignore_a_wall(name):
    dec = make_decoder(name)
    assert dec.name == name
    assert dec.decode(phone_scene(CODE, tilt_deg=30, roll_deg=-10, seed=1)) == [CODE]
    assert dec.decode(background(seed=2)) == []


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
def test_decoders_accept_grey_bgra_and_blue_tinted_frames(name):
    dec = make_decoder(name)
    frame = phone_scene(CODE, seed=4)
    assert dec.decode(to_gray(frame)) == [CODE]
    assert dec.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)) == [CODE]
    # A code whose contrast is only in red/green: a decoder reading channel 0
    # (blue) only would see nothing.
    tinted = frame.copy()
    tinted[:, :, 0] = 128
    assert dec.decode(tinted) == [CODE]


def test_unknown_decoder_is_a_typed_error():
    with pytest.raises(DecoderError):
        make_decoder("tesseract")


def test_dedup_delivers_a_code_once_while_it_stays_in_view():
    now = [0.0]
    d = Deduplicator(forget_after=2.0, clock=lambda: now[0])
    got = []
    for t, texts in [(0.0, ["A"]), (0.2, ["A"]), (0.4, []), (0.6, ["A", "B"]), (0.8, ["A", "B"]),
                     (1.0, ["B"]), (3.5, ["A"]), (3.7, ["A"])]:
        now[0] = t
        got.append(d.feed(texts))
    assert got == [["A"], [], [], ["B"], [], [], ["A"], []]


def test_dedup_reset_forgets():
    d = Deduplicator(clock=lambda: 0.0)
    assert d.feed(["A", "A"]) == ["A"]
    d.reset()
    assert d.feed(["A"]) == ["A"]


def test_worker_reads_a_code_from_the_sim_camera_once(tmp_path):
    cv2.imwrite(str(tmp_path / "a_wall.png"), background(seed=1))
    for i in range(3):  # the code stays in view over several frames
        cv2.imwrite(str(tmp_path / f"b_phone{i}.png"), phone_scene(CODE, roll_deg=4 * i, seed=1))
    cam = SimCamera(tmp_path, fps=30, loop=False)
    got: list[str] = []
    done = threading.Event()
    worker = DecoderWorker("zxing", source=cam, max_rate=100,
                           when_code=lambda t: (got.append(t), done.set()))
    cam.start()
    worker.start()
    try:
        assert done.wait(10)
        # Let the rest of the frames pass through the decoder.
        for _ in range(50):
            if cam.played >= 4 and worker.frames_decoded >= 2:
                break
            cam.wait_frame(cam.latest().seq if cam.latest() else 0, 0.2)
    finally:
        worker.close()
        cam.close()
        worker.close()  # idempotent
    assert got == [CODE]


def test_worker_decodes_submitted_frames_off_the_calling_thread():
    threads = []
    done = threading.Event()
    worker = DecoderWorker("pyzbar", max_rate=50,
                           when_code=lambda t: (threads.append(threading.current_thread()), done.set()))
    worker.start()
    try:
        worker.submit(np.zeros((720, 1280, 3), np.uint8))
        worker.submit(phone_scene(CODE, seed=5))
        assert done.wait(10)
    finally:
        worker.close()
    assert threads and threads[0] is not threading.current_thread()


def test_default_decoder_reads_utf8_chinese():
    # zbar (libzbar0 0.23) guesses Shift-JIS first and returns mojibake for
    # this text; zxing-cpp honours UTF-8. One reason zxing is the default.
    text = "山西省吕梁市临县"
    assert make_decoder().decode(phone_scene(text, seed=6)) == [text]


def test_worker_survives_a_failing_change_gate_and_still_reads_the_next_code():
    """Issue 12 fault 1: an exception outside the decoder (here the change gate) ended the thread for good."""
    from kiosk.hardware.motion import DecodeGate

    class FlakyGate(DecodeGate):
        calls = 0

        def decide(self, image):
            FlakyGate.calls += 1
            if FlakyGate.calls == 1:
                raise RuntimeError("gate failed once")
            return super().decide(image)

    done = threading.Event()
    worker = DecoderWorker("zxing", max_rate=50, gate=FlakyGate(), when_code=lambda t: done.set())
    worker.start()
    try:
        worker.submit(phone_scene(CODE, seed=7))
        time.sleep(1.0)  # the first round fails; the loop backs off and goes on
        for _ in range(20):
            worker.submit(phone_scene(CODE, seed=8 + _))
            if done.wait(0.5):
                break
        assert done.is_set(), "the decoder thread died on the gate's exception"
    finally:
        worker.close()
