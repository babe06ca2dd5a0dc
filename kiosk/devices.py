"""The kiosk's devices, built from config, behind one small hub.

The hub turns driver events into what the app cares about: a person
identified, a card taken away, a device error, a device's status. Callbacks
run on driver threads; the app moves them onto the UI thread with Clock. The
hub never knows about screens.

With ``driver = "sim"`` the hub asks the simulators it was handed
(:class:`Simulators`, built by the demo launcher ``kiosk.demo_devices``) for the
device's transport: the simulator runs in-process on its real transport (a pty
for the ID-card reader, vpcd for the social-security card, TCP for the printer)
and the real driver talks to it, so the kiosk on its shipped config exercises
the same code as on real hardware. The hub itself never imports a simulator.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

from kiosk.core.config import Config
from kiosk.core.errors import DeviceError, KioskError
from kiosk.core.person import Person
from kiosk.core.settings import CameraSettings, IdCardSettings, PrinterSettings, SsCardSettings

if TYPE_CHECKING:  # the drivers are imported when started, after the first frame
    from kiosk.hardware.camera import CameraSource
    from kiosk.hardware.idcard_reader import IdCardReader
    from kiosk.hardware.motion import ChangeDetector
    from kiosk.hardware.printer import ReceiptPrinter
    from kiosk.hardware.sscard_reader import SsCardReader

log = logging.getLogger("kiosk.devices")


@dataclass
class DeviceState:
    name: str
    driver: str
    status: str          # online, offline, no_device, disabled, simulated-* ...
    detail: str = ""


class SimulatedCard(Protocol):
    """A virtual social-security card the self-test inserts, reads and takes away."""

    @property
    def reader(self) -> str | None: ...
    def insert(self, wait: bool = True, timeout: float = 5.0) -> None: ...
    def close(self) -> None: ...


class Simulators(Protocol):
    """What the hub and the self-test ask of the simulated devices (``kiosk.demo_devices.DemoDevices``)."""

    def idcard_port(self, *, transport: str = "serial", demo_residents: bool = True) -> str: ...
    def sscard_reader(self) -> str: ...
    def sscard_test_card(self) -> SimulatedCard: ...
    def printer_port(self, *, family: str | None = None) -> str: ...
    def saved_print_jobs(self, limit: int) -> list[tuple[str, bytes]]: ...
    def insert(self, source: str, index: int) -> None: ...
    def remove(self, source: str) -> None: ...
    def qr_scene(self, forged: bool) -> Any: ...
    def close(self) -> None: ...


def frame_change_detector() -> ChangeDetector:
    """Change detection on camera frames (kiosk.hardware.motion) for screens that show the camera."""
    from kiosk.hardware.motion import ChangeDetector

    return ChangeDetector()


def no_simulators(name: str) -> DeviceError:
    return DeviceError(f"{name}: driver = \"sim\" but no simulators were given (start them through kiosk.demo_devices)",
                       "模拟设备未启动，请反映系统问题。")


class DeviceHub:
    """``DeviceHub(cfg, sims)``: ``sims`` serves the devices whose driver is ``"sim"`` (None: there are none)."""

    def __init__(self, cfg: Config, sims: Simulators | None = None) -> None:
        self.cfg = cfg
        self.sims = sims
        self.when_person: Callable[[Person], None] | None = None
        self.when_card_removed: Callable[[str], None] | None = None
        self.when_error: Callable[[KioskError], None] | None = None
        self.when_status: Callable[[DeviceState], None] | None = None
        self.idcard: IdCardReader | None = None
        self.sscard: SsCardReader | None = None
        self.printer: ReceiptPrinter | None = None
        self.camera: CameraSource | None = None  # opened only while a screen needs it
        self._states: dict[str, DeviceState] = {}
        # The app plugs in the systemd watchdog's deadline(name, seconds) here, so a
        # device call stuck past its deadline stops the watchdog pings (and systemd
        # restarts the kiosk). Drivers keep their own I/O timeouts; this is the net.
        self.deadline: Callable[[str, float], contextlib.AbstractContextManager[Any]] = \
            lambda _name, _seconds: contextlib.nullcontext()
        self._print_lock = threading.Lock()
        self._starter: threading.Thread | None = None
        self._start_called = threading.Event()  # the app starts the devices after its first frame

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        """Start every device on a worker thread: opening ports and starting
        pcscd can take seconds, and the UI thread must never wait for them."""
        self._starter = threading.Thread(target=self._start_all, name="devices-start", daemon=True)
        self._starter.start()
        self._start_called.set()

    def wait_started(self, timeout: float = 30.0) -> bool:
        """Wait up to ``timeout`` until every device is started, also for ``start()`` to be
        called (the app calls it after its first frame); True once they are."""
        deadline = time.monotonic() + timeout
        if not self._start_called.wait(timeout) or self._starter is None:
            return False
        self._starter.join(max(0.0, deadline - time.monotonic()))
        return not self._starter.is_alive()

    def _start_all(self) -> None:
        devices = self.cfg.settings.devices
        starters: tuple[tuple[str, Any, Callable[[Any], None]], ...] = (
            ("idcard", devices.idcard, self._start_idcard), ("printer", devices.printer, self._start_printer),
            ("camera", devices.camera, self._start_camera), ("sscard", devices.sscard, self._start_sscard))
        for name, c, starter in starters:
            driver = c.driver
            if driver == "none":
                self._set_state(name, driver, "disabled")
                continue
            try:
                with self.deadline(f"{name}.start", 60):
                    starter(c)
            except (KioskError, OSError, ImportError) as exc:
                # A missing device must not stop the kiosk: the technician sees it.
                log.error("device %s (%s) failed to start: %s", name, driver, exc)
                self._set_state(name, driver, "offline", str(exc))

    def close(self) -> None:
        if self._start_called.is_set():
            self.wait_started(10)
        devices: tuple[Any, ...] = (self.idcard, self.sscard, self.printer, self.camera, self.sims)
        for dev in devices:  # the drivers first, then the simulators they talk to
            if dev is not None:
                try:
                    dev.close()
                except Exception as exc:  # closing must go on for the others
                    log.warning("closing %r: %s", dev, exc)

    def _simulators(self, name: str) -> Simulators:
        if self.sims is None:
            raise no_simulators(name)
        return self.sims

    def idcard_present(self) -> bool:
        """Whether an ID card lies on the reader now (the driver polls for it)."""
        reader = self.idcard
        return bool(reader is not None and reader.card_present)

    def status(self) -> dict[str, DeviceState]:
        return dict(self._states)

    def report_state(self, name: str, driver: str, status: str, detail: str = "") -> None:
        """A state learnt outside the hub (e.g. the display's renderer, kiosk.gpu_check)."""
        self._set_state(name, driver, status, detail)

    def _set_state(self, name: str, driver: str, status: str, detail: str = "") -> None:
        state = DeviceState(name, driver, status, detail)
        self._states[name] = state
        if self.when_status:
            self.when_status(state)

    def _error(self, err: KioskError) -> None:
        log.warning("device error: %s", err)
        if self.when_error:
            self.when_error(err)

    def _person(self, person: Person) -> None:
        if self.when_person:
            self.when_person(person)

    def _removed(self, source: str) -> None:
        if self.when_card_removed:
            self.when_card_removed(source)

    # -- ID-card reader ------------------------------------------------------
    def _start_idcard(self, c: IdCardSettings) -> None:
        from kiosk.hardware.idcard_reader import IdCardReader

        if c.driver == "sim":
            port = self._simulators("idcard").idcard_port(transport=c.transport)
        else:
            port = c.port
        reader = IdCardReader(port, baudrate=c.baudrate, poll_interval=c.poll_interval, transport=c.transport)
        reader.when_card_read = lambda rec: self._person(rec.to_person())
        reader.when_card_removed = lambda: self._removed("idcard")
        reader.when_error = self._error
        reader.when_status_changed = lambda st: self._set_state("idcard", c.driver, str(st))
        self.idcard = reader
        self._set_state("idcard", c.driver, "starting", port)
        reader.start()

    # -- social-security card --------------------------------------------------
    def _start_sscard(self, c: SsCardSettings) -> None:
        from kiosk.hardware.pcsc_stack import ensure_pcscd
        from kiosk.hardware.sscard_reader import SsCardReader

        reader_name = c.reader
        ensure = None
        if c.driver == "sim":
            reader_name = self._simulators("sscard").sscard_reader()  # starts pcscd, puts F1's card on a slot
            ensure = ensure_pcscd
        reader = SsCardReader(reader_name, poll_interval=c.poll_interval, read_timeout=c.read_timeout,
                              ensure_stack=ensure)
        reader.when_card_read = lambda rec: self._person(rec.to_person())
        reader.when_card_removed = lambda: self._removed("sscard")
        reader.when_error = self._error
        self.sscard = reader
        reader.start()
        self._set_state("sscard", c.driver, "online", reader_name)

    # -- camera ------------------------------------------------------------------
    def _start_camera(self, c: CameraSettings) -> None:
        from kiosk import ROOT
        from kiosk.hardware.camera import make_camera

        self.camera = make_camera(c.driver, c.device, c.sim_source, c.fps, root=ROOT)
        self._set_state("camera", c.driver, "ready", c.device if c.driver == "opencv" else c.sim_source)

    # -- printer -----------------------------------------------------------------
    def _start_printer(self, c: PrinterSettings) -> None:
        from kiosk.hardware.printer import ReceiptPrinter

        port = c.port
        if c.driver == "sim":
            port = self._simulators("printer").printer_port(family=c.status_profile)
        self.printer = ReceiptPrinter(c.driver, port, usb_vendor=c.usb_vendor, usb_product=c.usb_product,
                                      paper_width=c.paper_width, text_mode=c.text_mode, timeout=c.timeout,
                                      qr_mode=c.qr_mode, baudrate=c.baudrate,
                                      status_profile=c.status_profile)
        self.printer.when_near_end = lambda st: self._near_end(c.driver, port)
        # Faults (jam, cutter, head, cover, paper) reach the technician in the family's words.
        self.printer.when_status_changed = lambda st: self._set_state(
            "printer", c.driver, "online" if st.ready and not st.paper_near_end else
            ("paper_near_end" if st.ready else "fault"), st.text_zh())
        self.printer.start()
        self._set_state("printer", c.driver, "online", port)

    def recent_print_jobs(self, limit: int = 3) -> list[tuple[str, bytes]]:
        """The newest print jobs, ``(name, bytes)``: this session's (the printer's memory), then those
        the simulated printer saved (for the technician's 最近凭条)."""
        jobs: list[tuple[str, bytes]] = []
        printer = self.printer
        for rec in reversed(printer.session_jobs if printer is not None else []):
            jobs.append((rec.label or rec.key[:8], rec.data))
        if self.sims is not None and self.cfg.settings.devices.printer.driver == "sim":
            jobs += self.sims.saved_print_jobs(limit)
        return jobs[:limit]

    def _near_end(self, driver: str, port: str) -> None:
        # Residents still get their receipt; the technician must bring paper soon.
        from kiosk.hardware.printer import NEAR_END_ZH

        log.warning("printer paper near end: technician alert (%s)", port)
        self._set_state("printer", driver, "paper_near_end", NEAR_END_ZH)

    def print_job(self, job: bytes, key: str | None, on_done: Callable[[Any], None], label: str = "") -> None:
        """Print on a worker thread; ``on_done`` gets a PrintResult or the DeviceError."""
        def work() -> None:
            with self._print_lock:
                try:
                    if self.printer is None:
                        raise DeviceError("no printer configured", "本机没有可用的打印机，可在屏幕上查看回执，或到柜台领取。")
                    with self.deadline("printer.print_job", 30):
                        result: Any = self.printer.print_job(job, key=key, label=label)
                except KioskError as exc:
                    log.warning("print job %s failed: %s", key, exc)
                    result = exc
            on_done(result)

        threading.Thread(target=work, name="print-job", daemon=True).start()

    # -- simulated devices (hotkeys, kiosk control) --------------------------------
    def sim_insert(self, source: str, index: int) -> None:
        self._sim_action(self._sim_insert, source, index)

    def sim_remove(self, source: str) -> None:
        self._sim_action(self._sim_remove, source)

    def _sim_action(self, action: Callable[..., None], *args: Any) -> None:
        # Off the caller's (UI) thread: the devices may still be starting.
        def run() -> None:
            self.wait_started()
            try:
                action(*args)
            except KioskError as exc:
                self._error(exc)

        threading.Thread(target=run, name="sim-control", daemon=True).start()

    def sim_show_qr(self, forged: bool = False) -> None:
        self._sim_action(self._sim_show_qr, forged)

    def _sim_show_qr(self, forged: bool) -> None:
        """Hold a phone with resident 1's e-SSC code in front of the simulated camera."""
        from kiosk.hardware.camera import SimCamera

        if not isinstance(self.camera, SimCamera) or self.sims is None:
            log.warning("no simulated camera to show a QR code to")
            return
        self.camera.show(self.sims.qr_scene(forged))

    def sim_hide_qr(self) -> None:
        from kiosk.hardware.camera import SimCamera

        if isinstance(self.camera, SimCamera):
            self.camera.show(None)

    def _sim_insert(self, source: str, index: int) -> None:
        if self.sims is None:
            log.warning("no simulator for %s", source)
            return
        self.sims.insert(source, index)

    def _sim_remove(self, source: str) -> None:
        if self.sims is not None:
            self.sims.remove(source)
