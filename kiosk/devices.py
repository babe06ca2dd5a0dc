"""The kiosk's devices, built from config, behind one small hub.

The hub turns driver events into what the app cares about: a person
identified, a card taken away, a device error, a device's status. Callbacks
run on driver threads; the app moves them onto the UI thread with Clock. The
hub never knows about screens.

With ``driver = "sim"`` a device's simulator is started in-process on its real
transport (a pty for the ID-card reader, vpcd for the social-security card,
TCP for the printer) and the real driver talks to it, so the kiosk on its
shipped config exercises the same code as on real hardware.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kiosk.core.config import Config
from kiosk.core.errors import DeviceError, KioskError
from kiosk.core.person import Person

if TYPE_CHECKING:  # the drivers are imported when started, after the first frame
    from kiosk.hardware.camera import CameraSource
    from kiosk.hardware.idcard_reader import IdCardReader
    from kiosk.hardware.idcard_sim import IdCardSimulator
    from kiosk.hardware.printer import ReceiptPrinter
    from kiosk.hardware.printer_sim import PrinterSimulator
    from kiosk.hardware.sscard_reader import SsCardReader
    from kiosk.hardware.sscard_sim import VirtualSsCard

log = logging.getLogger("kiosk.devices")


@dataclass
class DeviceState:
    name: str
    driver: str
    status: str          # online, offline, no_device, disabled, simulated-* ...
    detail: str = ""


def synthetic_people(cfg: Config | None = None) -> list[Person]:
    """Residents the simulated devices present (hotkeys F1..F5); see kiosk.sim_people."""
    from kiosk.sim_people import demo_cards

    return [r.to_person() for r in demo_cards(cfg)]


def frame_change_detector():
    """Change detection on camera frames (kiosk.hardware.motion) for screens that show the camera."""
    from kiosk.hardware.motion import ChangeDetector

    return ChangeDetector()


class DeviceHub:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.when_person: Callable[[Person], None] | None = None
        self.when_card_removed: Callable[[str], None] | None = None
        self.when_error: Callable[[KioskError], None] | None = None
        self.when_status: Callable[[DeviceState], None] | None = None
        self.idcard: IdCardReader | None = None
        self.idcard_sim: IdCardSimulator | None = None
        self.sscard: SsCardReader | None = None
        self.sscard_sim: VirtualSsCard | None = None
        self.printer: ReceiptPrinter | None = None
        self.printer_sim: PrinterSimulator | None = None
        self.camera: CameraSource | None = None  # opened only while a screen needs it
        self._states: dict[str, DeviceState] = {}
        # The app plugs in the systemd watchdog's deadline(name, seconds) here, so a
        # device call stuck past its deadline stops the watchdog pings (and systemd
        # restarts the kiosk). Drivers keep their own I/O timeouts; this is the net.
        self.deadline = lambda name, seconds: contextlib.nullcontext()
        self._print_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        """Start every device on a worker thread: opening ports and starting
        pcscd can take seconds, and the UI thread must never wait for them."""
        self._starter = threading.Thread(target=self._start_all, name="devices-start", daemon=True)
        self._starter.start()

    def wait_started(self, timeout: float = 30.0) -> bool:
        starter = getattr(self, "_starter", None)
        if starter is not None:
            starter.join(timeout)
            return not starter.is_alive()
        return True

    def _start_all(self) -> None:
        for name, starter in (("idcard", self._start_idcard), ("printer", self._start_printer),
                              ("camera", self._start_camera), ("sscard", self._start_sscard)):
            driver = self.cfg[f"devices.{name}"]["driver"]
            if driver == "none":
                self._set_state(name, driver, "disabled")
                continue
            try:
                with self.deadline(f"{name}.start", 60):
                    starter(self.cfg[f"devices.{name}"])
            except (KioskError, OSError, ImportError) as exc:
                # A missing device must not stop the kiosk: the technician sees it.
                log.error("device %s (%s) failed to start: %s", name, driver, exc)
                self._set_state(name, driver, "offline", str(exc))

    def close(self) -> None:
        self.wait_started(10)
        for dev in (self.idcard, self.idcard_sim, self.sscard, self.sscard_sim, self.printer, self.printer_sim,
                    self.camera):
            if dev is not None:
                try:
                    dev.close()
                except Exception as exc:  # closing must go on for the others
                    log.warning("closing %r: %s", dev, exc)

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
    def _start_idcard(self, c: dict[str, Any]) -> None:
        from kiosk.hardware.idcard_reader import IdCardReader

        if c["driver"] == "sim":
            from kiosk.hardware.idcard_sim import HidIdCardSimulator, IdCardSimulator

            from kiosk.sim_people import demo_cards

            sim_class = HidIdCardSimulator if c["transport"] == "hid" else IdCardSimulator
            self.idcard_sim = sim_class(residents=demo_cards(self.cfg), baudrate=c["baudrate"]).start()
            port = self.idcard_sim.port
        else:
            port = c["port"]
        reader = IdCardReader(port, baudrate=c["baudrate"], poll_interval=c["poll_interval"], transport=c["transport"])
        reader.when_card_read = lambda rec: self._person(rec.to_person())
        reader.when_card_removed = lambda: self._removed("idcard")
        reader.when_error = self._error
        reader.when_status_changed = lambda st: self._set_state("idcard", c["driver"], str(st))
        self.idcard = reader
        self._set_state("idcard", c["driver"], "starting", port)
        reader.start()

    # -- social-security card --------------------------------------------------
    def _start_sscard(self, c: dict[str, Any]) -> None:
        from kiosk.hardware.pcsc_stack import ensure_pcscd
        from kiosk.hardware.sscard_reader import SsCardReader

        reader_name = c["reader"]
        ensure = None
        if c["driver"] == "sim":
            from kiosk.hardware.sscard_sim import VirtualSsCard, holder_from_person

            ensure_pcscd()
            ensure = ensure_pcscd
            # The simulated card belongs to the same resident as the simulated ID
            # card of F1, so both credentials resolve to one person.
            self.sscard_sim = VirtualSsCard.on_free_slot(holder_from_person(synthetic_people(self.cfg)[0]), timeout=5)
            reader_name = self.sscard_sim.reader or ""
        reader = SsCardReader(reader_name, poll_interval=c["poll_interval"], read_timeout=c["read_timeout"],
                              ensure_stack=ensure)
        reader.when_card_read = lambda rec: self._person(rec.to_person())
        reader.when_card_removed = lambda: self._removed("sscard")
        reader.when_error = self._error
        self.sscard = reader
        reader.start()
        self._set_state("sscard", c["driver"], "online", reader_name)

    # -- camera ------------------------------------------------------------------
    def _start_camera(self, c: dict[str, Any]) -> None:
        from kiosk import ROOT
        from kiosk.hardware.camera import make_camera

        self.camera = make_camera(c["driver"], c["device"], c["sim_source"], c["fps"], root=ROOT)
        self._set_state("camera", c["driver"], "ready", c["device"] if c["driver"] == "opencv" else c["sim_source"])

    # -- printer -----------------------------------------------------------------
    def _start_printer(self, c: dict[str, Any]) -> None:
        from kiosk.hardware.printer import ReceiptPrinter

        port = c["port"]
        if c["driver"] == "sim":
            from kiosk.hardware.printer_sim import PrinterSimulator

            out = Path(c["sim_out"])
            out = out if out.is_absolute() else self.cfg.storage_dir / out
            self.printer_sim = PrinterSimulator(out_dir=out, tcp_port=0, family=c["status_profile"]).start()
            port = f"127.0.0.1:{self.printer_sim.tcp_port}"
        self.printer = ReceiptPrinter(c["driver"], port, usb_vendor=c["usb_vendor"], usb_product=c["usb_product"],
                                      paper_width=c["paper_width"], text_mode=c["text_mode"], timeout=c["timeout"],
                                      qr_mode=c["qr_mode"], baudrate=c["baudrate"],
                                      status_profile=c["status_profile"])
        self.printer.when_near_end = lambda st: self._near_end(c["driver"], port)
        # Faults (jam, cutter, head, cover, paper) reach the technician in the family's words.
        self.printer.when_status_changed = lambda st: self._set_state(
            "printer", c["driver"], "online" if st.ready and not st.paper_near_end else
            ("paper_near_end" if st.ready else "fault"), st.text_zh())
        self.printer.start()
        self._set_state("printer", c["driver"], "online", port)

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

    def _sim_action(self, action, *args) -> None:
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
        from kiosk.hardware.qr_render import phone_scene
        from kiosk.sim_people import demo_essc_code

        if not isinstance(self.camera, SimCamera):
            log.warning("no simulated camera to show a QR code to")
            return
        text = demo_essc_code(self.cfg, synthetic_people(self.cfg)[0].id_number)
        if forged:
            text = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
        self.camera.show(phone_scene(text))

    def sim_hide_qr(self) -> None:
        from kiosk.hardware.camera import SimCamera

        if isinstance(self.camera, SimCamera):
            self.camera.show(None)

    def _sim_insert(self, source: str, index: int) -> None:
        if source == "idcard" and self.idcard_sim is not None:
            self.idcard_sim.insert(index % len(self.idcard_sim.residents))
        elif source == "sscard" and self.sscard_sim is not None:
            from kiosk.hardware.sscard_sim import holder_from_person

            people = synthetic_people(self.cfg)
            self.sscard_sim.holder = holder_from_person(people[index % len(people)])
            self.sscard_sim.insert(wait=False)
        else:
            log.warning("no simulator for %s", source)

    def _sim_remove(self, source: str) -> None:
        if source == "idcard" and self.idcard_sim is not None:
            self.idcard_sim.remove()
        elif source == "sscard" and self.sscard_sim is not None:
            self.sscard_sim.remove(wait=False)
