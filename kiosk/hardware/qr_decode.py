"""QR decoding behind one interface: zxing-cpp and pyzbar.

``make_decoder(name).decode(frame) -> list[str]`` takes a BGR, BGRA or
greyscale numpy frame. Both decoders get greyscale: pyzbar reads only the
first channel of a 3-channel array (a blue-channel-only image), and zxing-cpp
converts anyway, so converting once in OpenCV is correct and cheapest.

``Deduplicator`` delivers a code once while it stays in view, and
``DecoderWorker`` decodes camera frames on its own thread at a bounded rate
and calls ``when_code(text)``; the UI thread never decodes.
The default decoder is chosen by bench/qr_decoders.py (see docs/camera.md).
"""

from __future__ import annotations

import logging
import threading
import weakref
import time
from typing import Any, Callable, Protocol

import cv2
import numpy as np

from kiosk.core.supervised import run_loop
from kiosk.core.errors import DeviceError
from kiosk.hardware.motion import DECODE_RESCUE, DecodeGate

log = logging.getLogger("kiosk.qr")

#: Chosen on the benchmark set (docs/camera.md): decodes more codes, faster.
DEFAULT_DECODER = "zxing"
DECODERS = ("zxing", "pyzbar")


class DecoderError(DeviceError):
    message_zh = "二维码识别功能暂时无法使用，请改用身份证或社保卡。"


def to_gray(frame: np.ndarray) -> np.ndarray:
    """Greyscale, C-contiguous uint8 view of a BGR / BGRA / grey frame."""
    if frame.ndim == 2:
        gray = frame
    elif frame.ndim == 3 and frame.shape[2] == 3:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    elif frame.ndim == 3 and frame.shape[2] == 1:
        gray = frame[:, :, 0]
    else:
        raise ValueError(f"unsupported frame shape {frame.shape}")
    if gray.dtype != np.uint8:
        gray = cv2.convertScaleAbs(gray)
    return np.ascontiguousarray(gray)


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


class QrDecoder(Protocol):
    name: str

    def decode(self, frame: np.ndarray) -> list[str]:
        """Texts of all QR codes found in ``frame`` (empty list when none)."""


class ZxingDecoder:
    """zxing-cpp (``zxingcpp.read_barcodes``), QR codes only."""

    name = "zxing"

    def __init__(self, try_rotate: bool = True, try_downscale: bool = True, try_invert: bool = True) -> None:
        try:
            import zxingcpp
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise DecoderError(f"zxing-cpp is not installed: {exc}") from exc
        self._z = zxingcpp
        self._formats: Any = zxingcpp.BarcodeFormat.QRCode
        self._opts: dict[str, Any] = dict(try_rotate=try_rotate, try_downscale=try_downscale, try_invert=try_invert,
                          text_mode=zxingcpp.TextMode.Plain)

    def decode(self, frame: np.ndarray) -> list[str]:
        results = self._z.read_barcodes(to_gray(frame), formats=self._formats, **self._opts)
        return _unique([r.text for r in results if r.valid])


class PyzbarDecoder:
    """pyzbar over libzbar0, QR codes only, fed greyscale."""

    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except (ImportError, OSError) as exc:  # OSError: libzbar0 missing
            raise DecoderError(f"pyzbar/libzbar0 is not available: {exc}") from exc
        self._p = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, frame: np.ndarray) -> list[str]:
        results = self._p.decode(to_gray(frame), symbols=self._symbols)
        # zbar hands back its own guess at the text encoding re-encoded as
        # UTF-8; e-SSC payloads are ASCII, so replacement never hides a code.
        return _unique([r.data.decode("utf-8", errors="replace") for r in results])


def rescue_image(frame: np.ndarray, scale: float = 2.0, sigma: float = 3.0, amount: float = 2.0) -> np.ndarray:
    """The frame made easier for a decoder: greyscale, upscaled (cubic) and unsharp-masked.

    Small and slightly blurred codes have modules of 1-2 pixels; doubling
    them and steepening their edges lets zxing-cpp find the finder patterns.
    sigma and amount were picked on bench/qr_decoders.py's set (docs/benchmarks.md).
    """
    big = cv2.resize(to_gray(frame), None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    soft = cv2.GaussianBlur(big, (0, 0), sigma)
    return cv2.addWeighted(big, 1.0 + amount, soft, -amount, 0)


class RescuingDecoder:
    """A decoder plus one bounded rescue pass (``rescue_image``) on frames where it finds nothing.

    The rescue pass costs ~10x a plain decode, so it runs at most once every
    ``every`` seconds (0 = on every empty frame, as the benchmark measures it).
    """

    def __init__(self, inner: QrDecoder, every: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.name = f"{inner.name}+rescue"
        self.every = every
        self._clock = clock
        self._last = float("-inf")
        self.rescues = 0

    def decode(self, frame: np.ndarray, allow_rescue: bool = True) -> list[str]:
        texts = self.inner.decode(frame)
        if texts or not allow_rescue:
            return texts
        now = self._clock()
        if now - self._last < self.every:
            return texts
        self._last = now
        self.rescues += 1
        return self.inner.decode(rescue_image(frame))


def make_decoder(name: str = DEFAULT_DECODER) -> QrDecoder:
    """"zxing" or "pyzbar" (``[devices.camera] decoder``)."""
    if name == "zxing":
        return ZxingDecoder()
    if name == "pyzbar":
        return PyzbarDecoder()
    raise DecoderError(f"unknown QR decoder {name!r}; choose one of {DECODERS}")


def read_image(path: str) -> np.ndarray:
    """Load an image file as a BGR frame, as a camera would deliver it.

    Raises OSError for a missing or unreadable file (cv2.imread only returns
    None, which hides the reason).
    """
    with open(path, "rb") as fh:  # OSError for missing / unreadable
        data = fh.read()
    if not data:
        raise OSError(f"empty file: {path}")
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV asserts on some inputs instead of returning None
        raise OSError(f"not a readable image: {path} ({str(exc).strip().splitlines()[-1][:120]})") from None
    if image is None:
        raise OSError(f"not a readable image: {path}")
    return image


class Deduplicator:
    """Delivers a code once while it stays in view.

    ``feed(texts)`` returns the codes that are new. A code is new unless it
    was seen within the last ``forget_after`` seconds, so a code on
    consecutive frames (with the odd missed frame in between) comes out once,
    and again only after it has been out of view that long.
    """

    def __init__(self, forget_after: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.forget_after = forget_after
        self._clock = clock
        self._last_seen: dict[str, float] = {}

    def feed(self, texts: list[str]) -> list[str]:
        now = self._clock()
        self._last_seen = {t: ts for t, ts in self._last_seen.items() if now - ts <= self.forget_after}
        new = [t for t in dict.fromkeys(texts) if t not in self._last_seen]
        for t in texts:
            self._last_seen[t] = now
        return new

    def reset(self) -> None:
        """Forget everything (e.g. when the screen changes)."""
        self._last_seen.clear()


_RUNNING: "weakref.WeakSet[DecoderWorker]" = weakref.WeakSet()


def close_all_workers() -> None:
    """Stop every running decoder (at app exit, so no daemon thread is inside zxing-cpp at shutdown)."""
    for worker in list(_RUNNING):
        worker.close()


class DecoderWorker:
    """Decodes frames off the calling thread at most ``max_rate`` times a second.

    Feed it either by giving a camera ``source`` (it pulls the newest frame
    with ``wait_frame``) or by calling ``submit(frame_image)`` from anywhere
    (only the newest submitted frame is kept). New codes (see Deduplicator)
    go to ``when_code(text)``, called on the worker thread.

    With a ``gate`` (kiosk.hardware.motion.DecodeGate; ``gated=True`` makes
    one with the defaults) only frames where
    something changed are decoded, plus one every few seconds on a still
    scene; ``rescue_every`` (seconds) adds the bounded rescue pass
    (RescuingDecoder) on empty frames, on those the gate allows it for.
    """

    def __init__(self, decoder: QrDecoder | str = DEFAULT_DECODER, source=None,
                 when_code: Callable[[str], None] | None = None, max_rate: float = 5.0,
                 dedup: Deduplicator | None = None, gate: DecodeGate | None = None, gated: bool = False,
                 rescue_every: float | None = None) -> None:
        decoder = make_decoder(decoder) if isinstance(decoder, str) else decoder
        self.decoder: QrDecoder = RescuingDecoder(decoder, rescue_every) if rescue_every is not None else decoder
        self.gate = gate if gate is not None or not gated else DecodeGate()
        self.frames_skipped = 0
        self.source = source
        self.when_code = when_code
        self.max_rate = max_rate
        self.dedup = dedup or Deduplicator()
        self.frames_decoded = 0
        self.decode_seconds = 0.0
        self._pending: np.ndarray | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start decoding. Idempotent."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.dedup.reset()
        if self.gate is not None:
            self.gate.reset()
        self._thread = threading.Thread(target=self._run, name="qr-decode", daemon=True)
        self._thread.start()
        _RUNNING.add(self)

    def close(self, timeout: float = 3.0) -> None:
        """Stop decoding. Idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread.join(timeout)

    def submit(self, image: np.ndarray) -> None:
        """Offer a frame; replaces any frame not yet decoded."""
        with self._cond:
            self._pending = image
            self._cond.notify_all()

    def _next_image(self, last_seq: int) -> tuple[np.ndarray | None, int]:
        if self.source is not None:
            frame = self.source.wait_frame(last_seq, timeout=0.5)
            return (frame.image, frame.seq) if frame is not None else (None, last_seq)
        with self._cond:
            if self._pending is None:
                self._cond.wait(0.5)
            image, self._pending = self._pending, None
        return image, last_seq

    def _run(self) -> None:
        # Supervised (issue 12, fault 1): an exception anywhere in a round (frame source, change
        # gate, decoder, callback) is logged once and retried with backoff, and a round that
        # hangs stops the watchdog pings instead of leaving QR login silently dead.
        self._last_seq = 0
        run_loop("qr-decode", self._round, self._stop, max_silence=30.0)

    def _round(self) -> float:
        """One frame: wait for it, gate it, decode it, report new codes; returns the pause before the next."""
        min_gap = 1.0 / self.max_rate if self.max_rate > 0 else 0.0
        t0 = time.monotonic()
        image, self._last_seq = self._next_image(self._last_seq)
        if image is None:
            return 0.05  # a closed camera answers wait_frame at once: don't spin
        if self._stop.is_set():
            return 0.0
        verdict = self.gate.decide(image) if self.gate is not None else DECODE_RESCUE
        if not verdict:
            self.frames_skipped += 1  # nothing changed in front of the camera
            return 0.0
        t1 = time.monotonic()
        try:
            if isinstance(self.decoder, RescuingDecoder):
                rescues = self.decoder.rescues
                texts = self.decoder.decode(image, allow_rescue=verdict == DECODE_RESCUE)
                if not texts and self.decoder.rescues > rescues and self.gate is not None:
                    self.gate.barren()  # searched hard, nothing there: not again for this scene
            else:
                texts = self.decoder.decode(image)
        except Exception:
            log.exception("qr: %s failed on a frame", self.decoder.name)
            texts = []
        self.decode_seconds += time.monotonic() - t1
        self.frames_decoded += 1
        for text in self.dedup.feed(texts):
            log.info("qr: code read (%d chars) by %s", len(text), self.decoder.name)
            cb = self.when_code
            if cb is not None:
                try:
                    cb(text)
                except Exception:
                    log.exception("qr: when_code callback failed")
        return max(0.0, min_gap - (time.monotonic() - t0))
