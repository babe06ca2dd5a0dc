"""Camera sources: a real camera on OpenCV ``VideoCapture`` and a simulator.

Both grab frames on their own worker thread and keep only the latest frame
(``latest()``), so a slow consumer never builds a backlog and the UI thread
never waits on the camera. ``when_frame(frame)`` is called from the worker
thread for each new frame; the app marshals it to the UI with Kivy's Clock
(or simply polls ``latest()`` from a Clock event, as ``CameraView`` does).

The device is opened only between ``start()`` and ``close()`` (both
idempotent), so the camera light is off while no screen needs it. A source
can be started again after ``close()``.

Frames are BGR ``uint8`` numpy arrays (OpenCV's order).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from kiosk.core.errors import DeviceError
from kiosk.core.supervised import beat, run_loop

log = logging.getLogger("kiosk.camera")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".mjpg", ".mjpeg"}

# Status values (plain strings, like gpiozero's properties).
CLOSED = "closed"
OPENING = "opening"
RUNNING = "running"
ERROR = "error"


class CameraError(DeviceError):
    message_zh = "摄像头暂时无法使用，请改用身份证或社保卡，或联系工作人员。"


@dataclass(frozen=True)
class Frame:
    """One captured frame. ``seq`` grows by one per frame within a source."""

    image: np.ndarray = field(repr=False)
    seq: int
    timestamp: float  # time.monotonic() when grabbed

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]


class CameraSource:
    """Base class: the worker thread, latest-frame slot and callbacks.

    Subclasses implement ``_open()``, ``_read() -> ndarray | None`` (None =
    no frame this time; raise CameraError for a failure) and ``_release()``.
    """

    name = "camera"

    def __init__(self, fps: float = 10.0, reopen_delay: float = 2.0) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = float(fps)
        self.reopen_delay = reopen_delay
        self.when_frame: Callable[[Frame], None] | None = None
        # Status changes go to when_status from the worker thread, except
        # "closed", which is reported by close() on the caller's thread.
        self.when_status: Callable[[str], None] | None = None
        self._status = CLOSED
        self._error: str | None = None
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # serialises start/close

    # -- public API ---------------------------------------------------------
    @property
    def status(self) -> str:
        """"closed", "opening", "running" or "error" (see ``error``)."""
        return self._status

    @property
    def error(self) -> str | None:
        """English description of the last failure, None when healthy."""
        return self._error

    @property
    def is_open(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Open the device and start grabbing; returns at once. Idempotent."""
        with self._lock:
            if self._thread is not None:
                return
            self._stop.clear()
            self._latest = None
            self._set_status(OPENING)
            self._thread = threading.Thread(target=self._run, name=f"{self.name}-grab", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 3.0) -> None:
        """Stop grabbing and release the device. Idempotent."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: worker did not stop within %.1f s", self.name, timeout)
            self._latest = None
            self._set_status(CLOSED)

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one (never blocks)."""
        return self._latest

    def wait_frame(self, after_seq: int = 0, timeout: float = 2.0) -> Frame | None:
        """Block until a frame newer than ``after_seq`` exists (or timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                f = self._latest
                if f is not None and f.seq > after_seq:
                    return f
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return None
                self._cond.wait(left)

    def __enter__(self) -> "CameraSource":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- subclass hooks -------------------------------------------------------
    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> np.ndarray | None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def _frame_interval(self) -> float:
        """Seconds to wait between reads (0 when the device paces itself)."""
        return 1.0 / self.fps

    # -- worker ---------------------------------------------------------------
    def _set_status(self, status: str) -> None:
        if status == self._status:
            return
        self._status = status
        cb = self.when_status
        if cb is not None:
            try:
                cb(status)
            except Exception:  # a UI bug must not kill the grabber
                log.exception("%s: when_status callback failed", self.name)

    def _publish(self, image: np.ndarray) -> None:
        self._seq += 1
        frame = Frame(image, self._seq, time.monotonic())
        with self._cond:
            self._latest = frame
            self._cond.notify_all()
        cb = self.when_frame
        if cb is not None:
            try:
                cb(frame)
            except Exception:
                log.exception("%s: when_frame callback failed", self.name)

    def _run(self) -> None:
        # Supervised (kiosk/core/supervised.py): any failure is logged once, the device is
        # reopened after a backoff, and a grab stuck in the driver stops the watchdog's pings.
        run_loop(f"{self.name}-grab", self._session, self._stop, max_silence=30.0,
                 backoff_base=self.reopen_delay, backoff_cap=max(self.reopen_delay, 10.0), logger=log)
        log.info("%s: closed", self.name)

    def _session(self) -> float:
        """Open, grab until stopped or failing, release; returns the delay before reopening."""
        try:
            self._set_status(OPENING)
            self._open()
            self._error = None
            self._set_status(RUNNING)
            log.info("%s: opened", self.name)
            self._grab_loop()
        except CameraError as exc:
            self._error = str(exc)
            log.error("%s: %s", self.name, exc)
            self._set_status(ERROR)
        except Exception as exc:  # OpenCV raises cv2.error and friends
            self._error = f"{type(exc).__name__}: {exc}"
            self._set_status(ERROR)
            raise
        finally:
            try:
                self._release()
            except Exception:
                log.exception("%s: release failed", self.name)
        return self.reopen_delay

    def _grab_loop(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            beat()
            image = self._read()
            if image is not None:
                self._publish(image)
            interval = self._frame_interval()
            if interval > 0:
                next_t += interval
                delay = next_t - time.monotonic()
                if delay < -interval:  # fell behind (slow machine): don't burst
                    next_t = time.monotonic()
                    delay = 0
                if delay > 0 and self._stop.wait(delay):
                    return


class OpenCvCamera(CameraSource):
    """A real camera through ``cv2.VideoCapture``.

    ``device`` is an index (int, or a string of digits such as "0") or a path
    (``/dev/video0``, ``/dev/v4l/by-id/...``). The driver asks the device for
    ``width`` x ``height`` at ``fps``; reads are paced by the device itself.
    After ``max_failures`` consecutive failed reads the device is released
    and re-opened every ``reopen_delay`` seconds while started (unplugged
    camera), with ``status == "error"`` meanwhile.
    """

    name = "opencv-camera"

    def __init__(self, device: int | str = 0, width: int = 1280, height: int = 720, fps: float = 10.0,
                 open_timeout: float = 5.0, read_timeout: float = 2.0, max_failures: int = 10,
                 reopen_delay: float = 2.0) -> None:
        super().__init__(fps, reopen_delay)
        if isinstance(device, str) and device.strip().isdigit():
            device = int(device.strip())
        self.device = device
        self.width = width
        self.height = height
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.max_failures = max_failures
        self._cap: cv2.VideoCapture | None = None
        self._failures = 0

    def _open(self) -> None:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000),
        ]
        cap = cv2.VideoCapture(self.device, cv2.CAP_ANY, params)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open camera {self.device!r}")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        # Keep the driver's queue short so the preview shows "now", not 4 frames ago.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._cap = cap
        self._failures = 0
        log.info("%s: %r at %dx%d", self.name, self.device,
                 int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def _read(self) -> np.ndarray | None:
        assert self._cap is not None
        ok, image = self._cap.read()
        if not ok or image is None:
            self._failures += 1
            if self._failures >= self.max_failures:
                raise CameraError(f"camera {self.device!r}: {self._failures} reads failed in a row")
            time.sleep(min(0.1, 1.0 / self.fps))
            return None
        self._failures = 0
        return image

    def _frame_interval(self) -> float:
        return 0.0  # read() blocks until the device delivers the next frame

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()


class SimCamera(CameraSource):
    """Plays image files of a folder (sorted by name) or a video file as
    frames at ``fps``, looping.

    ``hold`` (seconds) shows each still image that long before the next one
    (default: one frame each). ``size`` = (width, height) resizes every frame,
    as a real camera set to that mode would deliver. ``show(image)`` overrides
    playback with one image (e.g. a fresh e-SSC code rendered by
    ``kiosk.hardware.qr_render.phone_scene``) until ``show(None)``.
    """

    name = "sim-camera"

    def __init__(self, source: str | Path, fps: float = 10.0, hold: float | None = None,
                 size: tuple[int, int] | None = None, loop: bool = True, reopen_delay: float = 2.0) -> None:
        super().__init__(fps, reopen_delay)
        self.source = Path(source)
        self.hold = hold
        self.size = size
        self.loop = loop
        self._images: list[np.ndarray] = []
        self._index = 0
        self._repeat = 0
        self._video: cv2.VideoCapture | None = None
        self._override: np.ndarray | None = None
        self.played = 0  # frames taken from the source since start()

    def show(self, image: np.ndarray | str | Path | None) -> None:
        """Show ``image`` (array or file) instead of the source; None resumes."""
        if isinstance(image, (str, Path)):
            loaded = cv2.imread(str(image), cv2.IMREAD_COLOR)
            if loaded is None:
                raise CameraError(f"sim camera: cannot read image {image}")
            image = loaded
        self._override = None if image is None else self._fit(image)

    @staticmethod
    def files_in(folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

    def _fit(self, image: np.ndarray) -> np.ndarray:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if self.size is not None and (image.shape[1], image.shape[0]) != tuple(self.size):
            image = cv2.resize(image, tuple(self.size), interpolation=cv2.INTER_AREA)
        return image

    def _open(self) -> None:
        self.played = 0
        self._index = 0
        self._repeat = 0
        src = self.source
        if src.is_dir():
            images = []
            for p in self.files_in(src):
                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is None:
                    log.warning("%s: skipping unreadable image %s", self.name, p.name)
                    continue
                images.append(self._fit(img))
            if not images:
                raise CameraError(f"sim camera: no readable images in {src}")
            self._images = images
            log.info("%s: %d images from %s at %.1f fps", self.name, len(images), src, self.fps)
        elif src.is_file():
            cap = cv2.VideoCapture(str(src))
            if not cap.isOpened():
                cap.release()
                raise CameraError(f"sim camera: cannot open video {src}")
            self._video = cap
        else:
            raise CameraError(f"sim camera: source {src} does not exist")

    def _next_still(self) -> np.ndarray | None:
        if self._index >= len(self._images):
            if not self.loop:
                return None
            self._index = 0
        img = self._images[self._index]
        repeats = max(1, round((self.hold or 0) * self.fps))
        self._repeat += 1
        if self._repeat >= repeats:
            self._repeat = 0
            self._index += 1
        return img

    def _next_video(self) -> np.ndarray | None:
        assert self._video is not None
        ok, img = self._video.read()
        if not ok:
            if not self.loop:
                return None
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, img = self._video.read()
            if not ok:
                raise CameraError(f"sim camera: video {self.source} has no frames")
        return self._fit(img)

    def _read(self) -> np.ndarray | None:
        override = self._override
        if override is not None:
            return override
        img = self._next_video() if self._video is not None else self._next_still()
        if img is not None:
            self.played += 1
        return img

    def _release(self) -> None:
        video, self._video = self._video, None
        if video is not None:
            video.release()
        self._images = []


def make_camera(driver: str, device: str = "0", sim_source: str | Path = "images/sim/camera",
                fps: float = 10.0, width: int = 1280, height: int = 720, root: Path | None = None,
                hold: float | None = 2.0) -> CameraSource | None:
    """Build the source named by ``[devices.camera] driver`` ("sim", "opencv",
    "none" -> None). A relative ``sim_source`` is taken from ``root``."""
    if driver == "none":
        return None
    if driver == "opencv":
        return OpenCvCamera(device, width, height, fps)
    if driver == "sim":
        src = Path(sim_source)
        if not src.is_absolute() and root is not None:
            src = root / src
        return SimCamera(src, fps, hold=hold, size=(width, height))
    raise CameraError(f"unknown camera driver {driver!r}")
