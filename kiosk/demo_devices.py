"""The demo launcher for devices: simulators for every device whose ``driver`` is ``"sim"``.

The one production door to the device simulators (``kiosk/hardware/*_sim.py``)
and the simulated residents (``kiosk.sim_people``); see tests/test_layers.py,
``LAUNCHERS``. The device hub and the self-test never import a simulator: they
are handed a :class:`DemoDevices` (``kiosk.devices.Simulators``) and ask it for
the transport of a simulated device, which it starts on first use, on the
caller's (worker) thread:

* ID-card reader: a pty (or a HID pty) served by the ID-card simulator;
* social-security card: pcscd plus a virtual card on a free vpcd slot;
* printer: the printer simulator on a loopback TCP port, saving each job under
  :func:`print_dir` (the one place that decides where simulated jobs are saved).

``demo_hub(cfg)`` is the app's device hub with these simulators plugged in.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kiosk.core.config import Config
from kiosk.core.person import Person
from kiosk.core.settings import Settings
from kiosk.devices import DeviceHub

if TYPE_CHECKING:
    from kiosk.hardware.idcard_sim import IdCardSimulator
    from kiosk.hardware.printer_sim import PrinterSimulator
    from kiosk.hardware.sscard_sim import VirtualSsCard

log = logging.getLogger("kiosk.devices")

SIM_DEVICES = ("idcard", "sscard", "camera", "printer")


def print_dir(settings: Settings) -> Path:
    """Where the simulated printer saves its jobs: ``[devices.printer] sim_out``, relative to the storage dir."""
    out = Path(settings.devices.printer.sim_out)
    return out if out.is_absolute() else settings.storage.dir / out


def synthetic_people(cfg: Config | None = None) -> list[Person]:
    """Residents the simulated devices present (hotkeys F1..F5); see kiosk.sim_people."""
    from kiosk.sim_people import demo_cards

    return [r.to_person() for r in demo_cards(cfg)]


class DemoDevices:
    """The simulated devices of one kiosk (or one stand-alone self-test); ``close()`` stops them all."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.print_dir = print_dir(cfg.settings)
        self.idcard_sim: IdCardSimulator | None = None
        self.sscard_sim: VirtualSsCard | None = None
        self.printer_sim: PrinterSimulator | None = None
        self._started: list[Any] = []  # every simulator started here, closed by close()
        self._lock = threading.Lock()

    def _keep(self, sim: Any) -> None:
        with self._lock:
            self._started.append(sim)

    # -- transports for the hub and the self-test ---------------------------------
    def idcard_port(self, *, transport: str = "serial", demo_residents: bool = True) -> str:
        """Start the ID-card simulator; its port for the real driver. ``demo_residents``: the
        F1..F5 residents (the app); else the simulator's own (the stand-alone self-test)."""
        from kiosk.hardware.idcard_sim import HidIdCardSimulator, IdCardSimulator

        c = self.cfg.settings.devices.idcard
        if demo_residents:
            from kiosk.sim_people import demo_cards

            sim_class = HidIdCardSimulator if transport == "hid" else IdCardSimulator
            sim = sim_class(residents=demo_cards(self.cfg), baudrate=c.baudrate).start()
        else:
            sim = IdCardSimulator(baudrate=c.baudrate).start()
        self._keep(sim)
        if self.idcard_sim is None:  # the first one is the kiosk's (hotkeys); a later one a self-test's
            self.idcard_sim = sim
        return str(sim.port)

    def sscard_reader(self) -> str:
        """Start pcscd and put resident F1's card on a free vpcd slot (taken out); the reader's name.

        The simulated card belongs to the same resident as the simulated ID card of
        F1, so both credentials resolve to one person.
        """
        from kiosk.hardware.pcsc_stack import ensure_pcscd
        from kiosk.hardware.sscard_sim import VirtualSsCard, holder_from_person

        ensure_pcscd()
        card = VirtualSsCard.on_free_slot(holder_from_person(synthetic_people(self.cfg)[0]), timeout=5)
        self._keep(card)
        if self.sscard_sim is None:
            self.sscard_sim = card
        return card.reader or ""

    def sscard_test_card(self) -> VirtualSsCard:
        """The self-test's own card on a free vpcd slot (the caller inserts and closes it);
        raises when every slot is busy."""
        from kiosk.hardware.sscard_sim import SYNTHETIC_HOLDERS, VirtualSsCard

        return VirtualSsCard.on_free_slot(SYNTHETIC_HOLDERS[0])

    def printer_port(self, *, family: str | None = None) -> str:
        """Start the printer simulator (saving jobs under ``print_dir``); ``host:port`` for the driver."""
        from kiosk.hardware.printer_sim import PrinterSimulator

        kw: dict[str, Any] = {} if family is None else {"family": family}
        sim = PrinterSimulator(out_dir=self.print_dir, tcp_port=0, **kw).start()
        self._keep(sim)
        if self.printer_sim is None:
            self.printer_sim = sim
        return f"127.0.0.1:{sim.tcp_port}"

    def saved_print_jobs(self, limit: int) -> list[tuple[str, bytes]]:
        """The newest jobs the simulated printer saved (also those of earlier runs): ``(file name, bytes)``."""
        out = self.print_dir
        files = sorted(out.glob("job-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True) if out.is_dir() else []
        return [(f.name, f.read_bytes()) for f in files[:limit]]

    # -- hotkeys and ``kiosk control`` ---------------------------------------------
    def insert(self, source: str, index: int) -> None:
        if source == "idcard" and self.idcard_sim is not None:
            self.idcard_sim.insert(index % len(self.idcard_sim.residents))
        elif source == "sscard" and self.sscard_sim is not None:
            from kiosk.hardware.sscard_sim import holder_from_person

            people = synthetic_people(self.cfg)
            self.sscard_sim.holder = holder_from_person(people[index % len(people)])
            self.sscard_sim.insert(wait=False)
        else:
            log.warning("no simulator for %s", source)

    def remove(self, source: str) -> None:
        if source == "idcard" and self.idcard_sim is not None:
            self.idcard_sim.remove()
        elif source == "sscard" and self.sscard_sim is not None:
            self.sscard_sim.remove(wait=False)

    def qr_scene(self, forged: bool) -> Any:
        """A phone showing resident 1's e-SSC code (a forged one: signature broken), for the simulated camera."""
        from kiosk.hardware.qr_render import phone_scene
        from kiosk.sim_people import demo_essc_code

        text = demo_essc_code(self.cfg, synthetic_people(self.cfg)[0].id_number)
        if forged:
            text = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
        return phone_scene(text)

    def close(self) -> None:
        with self._lock:
            sims, self._started = self._started[::-1], []
        for sim in sims:
            try:
                sim.close()
            except Exception as exc:  # noqa: BLE001 - closing must go on for the others
                log.warning("closing %r: %s", sim, exc)

    def __enter__(self) -> DemoDevices:
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.close()


def needs_simulators(cfg: Config) -> bool:
    devices = cfg.settings.devices
    return any(getattr(devices, name).driver == "sim" for name in SIM_DEVICES)


def demo_hub(cfg: Config) -> DeviceHub:
    """The device hub for ``cfg``, with the simulators plugged in when a device's driver is ``"sim"``."""
    return DeviceHub(cfg, DemoDevices(cfg) if needs_simulators(cfg) else None)
