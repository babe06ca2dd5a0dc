"""The simulated camera plays real image and video files as frames."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from kiosk.hardware.camera import CLOSED, ERROR, RUNNING, CameraError, OpenCvCamera, SimCamera, make_camera

COLOURS = [(0, 0, 255), (0, 255, 0), (255, 0, 0)]  # BGR: red, green, blue


def solid(bgr, size=(64, 48)):
    return np.full((size[1], size[0], 3), bgr, np.uint8)


def colour_of(frame) -> tuple[int, int, int]:
    return tuple(int(v) for v in frame.image[10, 10])


@pytest.fixture
def folder(tmp_path):
    for i, c in enumerate(COLOURS):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), solid(c))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "03_broken.png").write_bytes(b"garbage")
    return tmp_path


def collect(cam: SimCamera, n: int) -> list:
    frames, seq = [], 0
    while len(frames) < n:
        f = cam.wait_frame(seq, timeout=5)
        assert f is not None, "no frame within 5 s"
        frames.append(f)
        seq = f.seq
    return frames


def record(cam: SimCamera, n: int) -> list:
    """Every frame the camera delivers (via when_frame), from its start."""
    seen: list = []
    got = threading.Event()

    def on_frame(f):
        seen.append(f)
        if len(seen) >= n:
            got.set()
    cam.when_frame = on_frame
    cam.start()
    try:
        assert got.wait(10), "camera delivered too few frames"
        assert cam.status == RUNNING
    finally:
        cam.close()
    return seen[:n]


def test_plays_folder_in_name_order_and_loops(folder):
    seen = record(SimCamera(folder, fps=50), 7)
    # 00, 01, 02, 00, ...: the broken file and the text file are skipped.
    assert [colour_of(f) for f in seen] == [COLOURS[i % 3] for i in range(7)]
    assert [f.seq for f in seen] == list(range(1, 8))
    assert seen[0].size == (64, 48)


def test_hold_repeats_each_image_and_size_resizes(folder):
    frames = record(SimCamera(folder, fps=50, hold=0.1, size=(32, 24)), 12)
    colours = [colour_of(f) for f in frames]
    assert colours[:5] == [COLOURS[0]] * 5 and colours[5:10] == [COLOURS[1]] * 5
    assert frames[0].image.shape == (24, 32, 3)


def test_plays_a_video_file_and_loops(tmp_path):
    path = tmp_path / "clip.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert vw.isOpened()
    for c in COLOURS:
        vw.write(solid(c))
    vw.release()
    frames = record(SimCamera(path, fps=50), 7)
    # MJPEG is lossy: compare the dominant channel.
    dominant = [int(np.argmax(f.image[10, 10])) for f in frames]
    assert dominant == [2, 1, 0, 2, 1, 0, 2]


def test_show_overrides_playback_until_cleared(folder):
    cam = SimCamera(folder, fps=50)
    with cam:
        collect(cam, 1)
        cam.show(solid((7, 7, 7)))
        f = collect(cam, 2)[-1]
        assert colour_of(f) == (7, 7, 7)
        cam.show(None)
        f = collect(cam, 2)[-1]
        assert colour_of(f) in COLOURS


def test_start_close_idempotent_and_restartable(folder):
    cam = SimCamera(folder, fps=50)
    cam.close()
    cam.start()
    cam.start()
    assert collect(cam, 1)
    cam.close()
    cam.close()
    assert cam.status == CLOSED and cam.latest() is None
    cam.start()
    assert collect(cam, 1)
    cam.close()


def test_missing_source_reports_error_status(tmp_path):
    statuses = []
    cam = SimCamera(tmp_path / "nothing", fps=10, reopen_delay=0.05)
    cam.when_status = statuses.append
    cam.start()
    try:
        assert cam.wait_frame(0, timeout=0.5) is None
        assert cam.status == ERROR and "does not exist" in cam.error
    finally:
        cam.close()
    assert ERROR in statuses and statuses[-1] == CLOSED


def test_opencv_camera_without_a_device_reports_error():
    cam = OpenCvCamera("/dev/video-does-not-exist", fps=10, open_timeout=1, reopen_delay=0.05)
    cam.start()
    try:
        assert cam.wait_frame(0, timeout=0.5) is None
        assert cam.status == ERROR and "cannot open camera" in cam.error
    finally:
        cam.close()


def test_make_camera_builds_the_configured_driver(folder):
    assert make_camera("none") is None
    assert isinstance(make_camera("opencv", "0"), OpenCvCamera)
    cam = make_camera("sim", sim_source=folder.name, root=folder.parent, fps=20)
    assert isinstance(cam, SimCamera) and cam.source == folder
    with pytest.raises(CameraError):
        make_camera("webcam")


def test_opencv_camera_reads_frames_and_recovers_after_the_stream_ends(tmp_path):
    # VideoCapture opens a file the same way as a device: the real driver's
    # read path. At the end of the file reads fail, as when a USB camera is
    # pulled; the driver reports "error" and re-opens.
    path = tmp_path / "cam.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for c in COLOURS:
        vw.write(solid(c))
    vw.release()
    statuses: list[str] = []
    cam = OpenCvCamera(str(path), 64, 48, fps=10, max_failures=2, reopen_delay=0.05)
    cam.when_status = statuses.append
    frames = record_until(cam, lambda seen: statuses.count(RUNNING) >= 2 and len(seen) >= 4)
    assert [int(np.argmax(f.image[10, 10])) for f in frames[:4]] == [2, 1, 0, 2]  # red, green, blue, red again
    assert statuses[:4] == ["opening", RUNNING, ERROR, "opening"]
    assert statuses.count(RUNNING) >= 2 and statuses[-1] == CLOSED


def record_until(cam, done, timeout: float = 10.0) -> list:
    seen: list = []
    got = threading.Event()

    def on_frame(f):
        seen.append(f)
        if done(seen):
            got.set()
    cam.when_frame = on_frame
    cam.start()
    try:
        assert got.wait(timeout), f"only {len(seen)} frames"
    finally:
        cam.close()
    return seen
