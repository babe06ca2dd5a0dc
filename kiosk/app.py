"""The Kivy application: screens, navigation, session and idle timeout.

Import this module only after kiosk.kivy_setup.prepare() has run.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition

from kiosk import gpu_check
from kiosk.core import clock, heap, panel
from kiosk.core.config import Config
from kiosk.devices import DeviceHub
from kiosk.core.errors import KioskError
from kiosk.core.person import Person
from kiosk.flows.session import IdleTimer, SessionManager
from kiosk.screens.attract import AttractScreen
from kiosk.screens.guide import GuideScreen
from kiosk.screens.item_list import ItemListScreen
from kiosk.screens.lazy import LazyScreenManager
from kiosk.screens.menu import MenuScreen
from kiosk.screens.theme import Theme
from kiosk.screens.voice import Voice
from kiosk.screens.widgets import DEMO_BADGE_HEIGHT, AskPopup, IdleWarning
from kiosk.watchdog import Watchdog, block_after_from_env

log = logging.getLogger("kiosk.app")

KV_FILE = Path(__file__).parent / "screens" / "kiosk.kv"


def attract_modules() -> tuple[ModuleType, ...]:
    """Screen modules that add to the attract screen itself: registered in ``build``,
    before its first frame. Each exposes ``register(app, sm)``; see screen_modules."""
    from kiosk.screens import camera_login

    return (
        camera_login,  # e-SSC QR login (attract and technician login), certification photo
    )


def screen_modules() -> tuple[ModuleType, ...]:
    """Screen modules that add more screens; each exposes ``register(app, sm)``.

    Plain imports, so a missing one fails the start instead of silently dropping
    its screens. Imported only when called (after kiosk.kv is loaded: their kv
    rules refine the base rules and must load after them), and not before the
    attract screen's first frame: nothing on it comes from them
    (``KioskApp._start_up_steps``).
    """
    from kiosk.screens import disclosure, search, technician
    from kiosk.screens import flow as flow_screens

    return (
        flow_screens,  # forms, confirm, results, receipts (all 40 services)
        technician,  # technician mode, self-test, fault reports
        disclosure,  # public-disclosure browser
        search,  # service search by characters and pinyin
    )

# The start goes on after this many seconds even if the window never reported its first frame.
FIRST_FRAME_LATEST = 5.0

# SDL2 key codes
KEY_ESCAPE = 27
KEY_F = {n: 281 + n for n in range(1, 13)}  # F1 = 282 ... F12 = 293


ELDER_OFFER_AGE = 60  # residents this old are offered elder mode at login

# Seconds on the attract screen with nobody identified, after a visit (or the start), before
# the memory it freed goes back to the system (kiosk.core.heap): long enough that a resident
# tapping on at once is not kept waiting, short enough that the next one finds it done.
HEAP_TIDY_AFTER = 2.0
# Kivy deletes the GL textures of collected widgets on its next frame: trim after that.
HEAP_TRIM_DELAY = 0.2

# Why a visit ended -> (written notice on the attract screen, voice prompt key).
FAREWELL = {
    "resident pressed logout": ("已安全退出，欢迎下次使用。", "logged_out"),
    "idle timeout": ("长时间没有操作，已自动退出，您的信息已清除。", "timed_out"),
    "social-security card removed": ("社保卡已取出，本次办理已结束，您的信息已清除。", "card_removed"),
}


class KioskApp(App):
    title = "自助服务终端"
    # F1 would open Kivy's settings panel, whose changes persist in config.ini: never.
    use_kivy_settings = False
    theme = ObjectProperty(None)
    logged_in = BooleanProperty(False)
    elder_offer = BooleanProperty(False)  # show the "switch to elder mode" banner on the menu
    who_text = StringProperty("")
    site_name = StringProperty("")
    disclosure_title = StringProperty("")
    # Room kept free at the top edge for the 演示 badge of a demonstration kiosk (0 in production).
    badge_room = NumericProperty(0)

    def __init__(self, cfg: Config, catalog: Any, devices: DeviceHub | None = None, backend=None, fleet=None,
                 services: Callable[[], tuple[Any, Any]] | None = None, **kwargs) -> None:
        """``backend`` (kiosk.backend.Backend) and ``fleet`` (kiosk.fleet.agent.FleetAgent) made by
        the caller, or ``services()`` returning both, called after the attract screen's first
        frame (their modules and files are not needed before it)."""
        super().__init__(**kwargs)
        self.cfg = cfg
        self.catalog = catalog
        self.badge_room = DEMO_BADGE_HEIGHT + 2 if getattr(cfg, "demo", False) else 0
        if devices is None:
            from kiosk.demo_devices import demo_hub  # the simulators of driver = "sim" devices, plugged into the hub

            devices = demo_hub(cfg)
        self.devices = devices
        self.backend = backend  # kiosk.backend.Backend: platform client + outbox
        self.fleet = None       # kiosk.fleet.agent.FleetAgent: the county's view of this kiosk (docs/fleet.md)
        self._attach_fleet(fleet)
        self._services = services
        settings = cfg.settings
        self.panel = panel.from_settings(settings.ui)
        self.theme = Theme(scale=self.panel.scale)
        self.site_name = settings.site.name
        self.sessions = SessionManager()
        self.sessions.when_login = self._on_login
        self.sessions.when_logout = self._on_logout
        self.sessions.when_other_person = self._on_other_person
        self.idle = self.new_idle_timer()
        self.voice = Voice(volume=settings.ui.volume)
        self.history: list[tuple[str, dict]] = []
        self._idle_popup: IdleWarning | None = None
        self._switch_popup: AskPopup | None = None
        self.last_print = None  # the latest PrintPopup (reprint, technician view)
        self.started_at: float | None = None
        #: (item no, monotonic time) chosen while browsing without a card: started right after login
        self.pending_item: tuple[int, float] | None = None
        self.plugins: dict[str, Any] = {}  # what each screen module's register() returned, by module
        self.launch_started: float | None = None  # monotonic time the process began starting the kiosk (runner)
        self.first_frame_at: float | None = None  # monotonic time the attract screen's first frame was drawn
        self._tidy_ev = None
        self.heap_tidies = 0  # memory given back after visits (kiosk.core.heap): a count, for tests and benches

    # -- build -------------------------------------------------------------
    def build(self):
        from kiosk import logbuffer
        from kiosk.screens import last_resort

        self.last_resort = last_resort.install(self)  # a bug: log, calm message, attract screen
        logbuffer.install()  # from the start, so the technician's log view shows the start-up too
        Builder.load_file(str(KV_FILE))
        self.sm = LazyScreenManager(transition=NoTransition())
        # Only the attract screen is built before the first frame. The screens a visit
        # needs next are built one per frame right after it (warm), so the first touch
        # finds them ready; the screen modules register after the first frame too
        # (or at once, when one of their screens is asked for before).
        self.sm.add_widget(AttractScreen(name="attract"))
        for cls, name in ((MenuScreen, "menu"), (ItemListScreen, "items"), (GuideScreen, "guide")):
            self.sm.add_lazy([name], lambda cls=cls, name=name: self.sm.add_widget(cls(name=name)), warm=True)
        for module in attract_modules():
            self._register(module)
        self.sm.add_pending(self._register_screens)
        Window.bind(on_key_down=self._on_key_down, on_request_close=self._on_request_close)
        Window.bind(on_touch_down=self._on_any_touch)
        self._idle_ev = Clock.schedule_interval(self._check_idle, 0.25)
        # systemd watchdog: ticks come from the UI loop itself, so a hung loop stops the pings.
        self.watchdog = Watchdog()
        self._wd_ev = Clock.schedule_interval(self.watchdog.tick, min(1.0, self.watchdog.stale_after / 4))
        self.sm.bind(current=lambda _sm, name: self.watchdog.set_status("screen", f"{name} screen"))
        self.devices.when_status = self._device_status
        self.devices.deadline = self.watchdog.deadline
        self.devices.when_person = lambda p: Clock.schedule_once(lambda _dt: self.sessions.login(p))
        self.devices.when_card_removed = lambda src: Clock.schedule_once(lambda _dt: self._on_card_removed(src))
        self.devices.when_error = lambda err: Clock.schedule_once(lambda _dt: self.show_error(err))
        return self.sm

    def _attach_fleet(self, fleet) -> None:
        if fleet is not None:
            from kiosk.app_fleet import AppFleetActions

            fleet.actions = AppFleetActions(self)
        self.fleet = fleet

    def _make_services(self) -> None:
        """Backend and fleet from ``services()``, once; then every alert raised so far in systemd's status."""
        make, self._services = self._services, None
        if make is not None:
            self.backend, fleet = make()
            self._attach_fleet(fleet)
        from kiosk.core.alerts import alerts

        for alert in alerts():  # e.g. a store repaired at open: systemctl status shows it
            self.watchdog.set_status(f"alert-{alert.key}", alert.text_en)

    def _register(self, module: ModuleType) -> None:
        self.plugins[module.__name__.rsplit(".", 1)[1]] = module.register(self, self.sm)

    def _register_screens(self) -> None:
        """Import the screen modules and register their screens."""
        try:
            for module in screen_modules():
                self._register(module)
        except Exception as exc:
            # As when this failed in build(): the kiosk must not run without a part of its screens.
            log.critical("the screen modules did not load: stopping", exc_info=True)
            raise SystemExit(1) from exc

    @property
    def plugins_tech(self) -> Any:
        """Technician mode's controller (kiosk.screens.technician), made on first use; None before
        the technician module registered, or without it."""
        controller = self.plugins.get("technician")
        return controller() if controller is not None else None

    def on_start(self) -> None:
        self.watchdog.set_status("screen", "attract screen")
        if getattr(self.cfg, "demo", False):
            # Added after the root widget so it is drawn above every screen.
            from kivy.factory import Factory

            self.demo_badge = Factory.DemoBadge()
            Window.add_widget(self.demo_badge)
        # The rest of the start waits for the first frame on glass. (A Clock event
        # scheduled here would run in the first frame's clock tick, before its drawing.)
        Window.bind(on_flip=self._first_frame_drawn)
        Clock.schedule_once(self._first_frame_drawn, FIRST_FRAME_LATEST)

    def _first_frame_drawn(self, *_a) -> None:
        """Window's first ``on_flip`` (or FIRST_FRAME_LATEST): go on with the start, a step per frame."""
        Window.unbind(on_flip=self._first_frame_drawn)
        if self.first_frame_at is not None:
            return
        self.first_frame_at = time.monotonic()
        if self.launch_started is not None:
            log.info("attract screen drawn %.2f s after the start", self.first_frame_at - self.launch_started)
        steps = self._start_up_steps()

        def step(_dt: float) -> None:
            try:
                more = next(steps, False) is not False
            except Exception as exc:
                # As when this was done before the first frame: the kiosk does not run half started
                # (say, without devices), it stops and systemd starts it again.
                log.critical("the start after the first frame failed: stopping", exc_info=True)
                raise SystemExit(1) from exc
            if more:
                Clock.schedule_once(step, 0)

        Clock.schedule_once(step, 0)

    def _start_up_steps(self) -> Iterator[None]:
        """After the first frame, one step per frame (a touch meanwhile waits one step at
        most): the screen modules, backend and fleet, devices, platform and fleet started,
        then the warm screens."""
        while self.sm.register_next():
            yield None
        yield None
        self._make_services()
        yield None
        self._announce_ready()
        while self.sm.warm_next():
            yield None

    def _announce_ready(self) -> None:
        # Devices, the platform and the fleet start after the first frame: their worker
        # threads (opening ports, pcscd, the platform simulator, generating the simulator's
        # residents) would otherwise hold the GIL while the attract screen is being drawn.
        gpu_check.check(lambda status, detail: self.devices.report_state("display", "opengl", status, detail))
        self.devices.start()
        if self.backend is not None:
            self.backend.start()
        if self.fleet is not None:
            self.fleet.start()
        site = self.cfg.settings.site
        log.info("attract screen up (site %s, device %s)", site.name, site.device_id)
        self.watchdog.ready()
        from kiosk.app_fleet import start_health_check

        start_health_check(self)  # a new software version is kept once this start proves healthy
        self._arm_heap_tidy()  # freezes what the start built (kiosk.core.heap)
        block_after = block_after_from_env()
        if block_after is not None:  # test hook: prove a hung UI loop stops the watchdog
            Clock.schedule_once(lambda _dt: time.sleep(3600), block_after)

    def on_stop(self) -> None:
        if self._tidy_ev is not None:
            self._tidy_ev.cancel()
        self._idle_ev.cancel()
        self._wd_ev.cancel()
        self.watchdog.close()
        from kiosk.hardware.qr_decode import close_all_workers

        close_all_workers()  # before the camera goes: no decoder may outlive the app
        self.devices.close()
        if self.backend is not None:
            self.backend.close()
        if self.fleet is not None:
            self.fleet.close()
        self.sessions.logout("kiosk stopping")

    def _device_status(self, st) -> None:
        """Any thread: a device changed state (systemd STATUS= and a fleet event)."""
        self.watchdog.set_status(f"dev-{st.name}", f"{st.name} {st.status}")
        if self.fleet is not None:
            self.fleet.event("device_status", device=st.name, status=st.status, driver=st.driver)

    def apply_settings(self, dotted: str) -> None:
        """UI thread: a setting changed remotely (kiosk.fleet.remote_config.ALLOWED)."""
        if dotted.startswith("ui.") and dotted != "ui.volume":
            self.idle = self.new_idle_timer()
        elif dotted == "ui.volume":
            self.voice.volume = self.cfg.settings.ui.volume
        elif dotted == "site.name":
            self.site_name = self.cfg.settings.site.name

    def new_idle_timer(self) -> IdleTimer:
        """The idle timer for the current settings and mode; the one place it is built
        (start, elder mode on/off, a remote or technician settings change)."""
        ui = self.cfg.settings.ui  # validated: the warning is shorter than both timeouts
        return IdleTimer(ui.idle_timeout_for(self.theme.elder), ui.idle_warning)

    # -- navigation ----------------------------------------------------------
    @property
    def screen(self):
        return self.sm.current_screen

    def go(self, name: str, _push: bool = True, **params) -> None:
        if _push and self.sm.current != "attract":
            self.history.append((self.sm.current, dict(getattr(self.screen, "params", {}))))
        screen = self.sm.get_screen(name)
        screen.params = params
        screen.show(**params)
        self.sm.current = name
        self.idle.touch()

    def go_back(self) -> None:
        if self.history:
            name, params = self.history.pop()
            self.go(name, _push=False, **params)
        else:
            self.go_home()

    def go_home(self) -> None:
        self.history.clear()
        if self.logged_in or self.sm.current != "attract":
            self.go("menu", _push=False)

    def go_attract(self) -> None:
        self.history.clear()
        self._dismiss_idle()
        self.sm.get_screen("attract").show()  # clears what the last visitor left there
        self.sm.current = "attract"
        self._arm_heap_tidy()

    # -- memory between visits ------------------------------------------------
    def _idle_on_attract(self) -> bool:
        return self.sm.current == "attract" and not self.logged_in \
            and not self.sessions.current.holds_personal_data()

    def _arm_heap_tidy(self) -> None:
        if self._tidy_ev is not None:
            self._tidy_ev.cancel()
        self._tidy_ev = Clock.schedule_once(self._tidy_collect, HEAP_TIDY_AFTER)

    def _tidy_collect(self, _dt: float) -> None:
        """Never during a visit: a resident who came back first is served, the next visit's end tidies."""
        if not self._idle_on_attract():
            return
        collected = heap.collect()
        if collected.frozen:
            log.info("%d objects of the start frozen out of the garbage collector", collected.frozen)
        self._tidy_ev = Clock.schedule_once(lambda _dt: self._tidy_trim(collected), HEAP_TRIM_DELAY)

    def _tidy_trim(self, collected: heap.Collected) -> None:
        self._tidy_ev = None
        if not self._idle_on_attract():
            return
        done = heap.trim_measured()
        self.heap_tidies += 1
        log.info("idle on the attract screen: freed memory given back, %s, gc %.1f ms (CPU %.1f ms)",
                 done.describe(), collected.ms, collected.cpu_ms)

    def browse(self) -> None:
        """Look at the guides without identifying (public information)."""
        self.go("menu")

    def toggle_elder(self) -> None:
        self.theme.elder = not self.theme.elder
        self.elder_offer = False  # answered
        if self.theme.elder:
            self.voice.say("elder_mode_on")
        self.sessions.current.elder_mode = self.theme.elder
        self.idle = self.new_idle_timer()

    def open_technician(self) -> None:
        """The hidden corner gesture on the attract screen lands here."""
        if self.sm.has_screen("tech_login"):
            log.info("technician entry gesture")
            self.go("tech_login")
        else:
            log.info("technician entry gesture, but technician mode is not installed")

    def start_text_for(self, item) -> str:
        flow = self.plugins.get("flow")
        return flow["start_text"](item) if flow and self.backend is not None else ""

    def start_service(self, item_no: int) -> None:
        flow = self.plugins.get("flow")
        if flow and self.backend is not None:
            log.info("service %s started", item_no)
            flow["start_service"](self, item_no)

    # -- session -------------------------------------------------------------
    def _on_login(self, person: Person) -> None:
        if self.fleet is not None:
            self.fleet.visit()  # a count and a time only
        self.logged_in = True
        self.who_text = f"您好，{person.masked_name}"
        self.history.clear()
        self.go("menu", _push=False)
        # Residents aged 60+ are offered elder mode on the menu (a banner, not a popup:
        # it must not stand between them and the service they came for).
        age = person.age_on(clock.today())
        self.elder_offer = age is not None and age >= ELDER_OFFER_AGE and not self.theme.elder
        if self.elder_offer:
            self.voice.say("elder_offer")
        item_no = self.take_pending_item()
        if item_no is not None:
            log.info("service %s chosen before login: started", item_no)
            self.start_service(item_no)

    def remember_item(self, item_no: int) -> None:
        """An item chosen before laying a card: the login that follows goes straight to it."""
        self.pending_item = (item_no, time.monotonic())

    def take_pending_item(self) -> int | None:
        # Only for the person who chose it: a choice older than the idle timeout belongs to
        # someone who walked away.
        pending, self.pending_item = self.pending_item, None
        if pending is None or time.monotonic() - pending[1] > self.idle.timeout:
            return None
        return pending[0]

    def _on_logout(self, reason: str) -> None:
        self.logged_in = False
        self.elder_offer = False
        self.who_text = ""
        if self.theme.elder:
            self.toggle_elder()
        for screen in self.sm.screens:
            screen.wipe()
        # Popups (keyboards holding typed answers, receipts on screen) leave with the resident.
        from kivy.uix.modalview import ModalView

        for widget in list(Window.children):
            if isinstance(widget, ModalView) and widget is not self._idle_popup:
                widget.dismiss(animation=False)
        self._switch_popup = None
        self.last_print = None
        self.pending_item = None
        self.go_attract()
        if reason not in ("kiosk stopping", "another resident identified"):
            self._farewell(reason)

    def _farewell(self, reason: str) -> None:
        """Say (and show) why the visit ended, and remind of an ID card left on the reader."""
        text, key = FAREWELL.get(reason, FAREWELL["resident pressed logout"])
        if self.devices.idcard_present():
            text, key = text + "\n请取走感应区上的身份证。", "take_id_card"
        self.sm.get_screen("attract").notice(text, error=False)
        self.voice.say(key)

    def logout(self, reason: str) -> None:
        self.sessions.logout(reason)

    def _on_other_person(self, person: Person) -> None:
        """Another resident's card mid-visit: ask; never switch silently (a form may be half-filled)."""
        current = self.sessions.current.person
        if self._switch_popup is not None:
            self._switch_popup.dismiss(animation=False)
        popup = AskPopup(title="检测到另一位居民的证件",
                         text=f"正在为 {current.masked_name if current else ''} 办理。\n"
                              f"要结束当前办理、换 {person.masked_name} 办理吗？\n结束后当前填写的内容不会保留。",
                         keep_text="继续当前办理", change_text="结束，换新的人", change_danger=True)
        popup.source = person.source
        popup.on_keep = lambda: self._keep_visit(person)
        popup.on_change = lambda: self._switch_visit(person)
        self._switch_popup = popup
        popup.open(animation=False)
        self.voice.say("other_card")
        self.idle.touch()

    def _keep_visit(self, person: Person) -> None:
        log.info("another resident's %s ignored: the current visit goes on", person.source)
        self._close_switch_popup()

    def _switch_visit(self, person: Person) -> None:
        self._close_switch_popup()
        self.sessions.switch_to(person)

    def _close_switch_popup(self) -> None:
        if self._switch_popup is not None:
            self._switch_popup.dismiss(animation=False)
            self._switch_popup = None

    def _on_card_removed(self, source: str) -> None:
        # A social-security card stays in its slot for the whole visit, so taking it
        # out ends the visit. The ID card is only laid on the reader to be read.
        popup = self._switch_popup
        if popup is not None and popup.source == source:
            self._close_switch_popup()  # the other resident took their card back: nothing to ask
        person = self.sessions.current.person
        if source == "sscard" and person is not None and person.source == "sscard":
            self.logout("social-security card removed")

    def recover_from_crash(self, message_zh: str) -> None:
        """After an unhandled exception: end the visit, dismiss popups, say so calmly on the attract screen."""
        from kivy.uix.modalview import ModalView

        for widget in list(Window.children):
            if isinstance(widget, ModalView):
                widget.dismiss(animation=False)
        self._idle_popup = None
        if self.sessions.current.person is not None or self.logged_in:
            self.logout("unexpected error")
        self.go_attract()
        self.sm.get_screen("attract").message = message_zh

    def show_error(self, err: KioskError) -> None:
        log.warning("device error shown to resident: %s", err)
        if self.sm.current == "attract":
            self.sm.get_screen("attract").notice(err.message_zh)

    # -- idle timeout ---------------------------------------------------------
    def _on_any_touch(self, *_args) -> None:
        self.idle.touch()
        # Returning None lets the touch go on to the widgets.

    def _check_idle(self, _dt: float) -> None:
        if self.sm.current == "attract" and not self.sessions.current.holds_personal_data() \
                and not self.theme.elder:
            self.idle.touch()
            return
        state = self.idle.state
        if state == "expired":
            log.info("idle timeout after %ss", self.idle.timeout)
            self._dismiss_idle()
            self.logout("idle timeout")
            if self.sm.current != "attract":
                self.go_attract()
        elif state == "warning":
            if self._idle_popup is None:
                self.voice.say("timeout_warning")
                self._idle_popup = IdleWarning()
                self._idle_popup.open(animation=False)
            self._idle_popup.seconds = int(self.idle.remaining() + 0.999)
        else:
            self._dismiss_idle()

    def _dismiss_idle(self) -> None:
        if self._idle_popup is not None:
            self._idle_popup.dismiss(animation=False)
            self._idle_popup = None

    def stay(self) -> None:
        self.idle.touch()
        self._dismiss_idle()

    # -- keys -------------------------------------------------------------------
    def open_settings(self, *_args) -> bool:
        """Kivy's settings panel is a way out of the kiosk: never opened."""
        log.warning("settings panel request ignored (kiosk)")
        return False

    def _install_settings_keys(self, window) -> None:
        """No F1 binding for the settings panel (see open_settings)."""
    def _on_request_close(self, *_args, **_kwargs) -> bool:
        if self.cfg.settings.ui.kiosk_mode:
            log.info("window close request ignored (kiosk mode)")
            return True
        return False

    def _on_key_down(self, _window, key: int, _scancode, _codepoint, modifiers) -> bool:
        """Keys from a USB keyboard plugged into the kiosk: none of them may leave the kiosk UI.

        Returning True stops the key before Kivy's own handlers (Escape-to-exit, F1 settings).
        """
        self.idle.touch()
        kiosk_mode = self.cfg.settings.ui.kiosk_mode
        if key == KEY_ESCAPE and kiosk_mode:
            return True  # swallow: Escape must not drop a resident to the desktop
        hot = {KEY_F[n]: n for n in range(1, 13)}
        if key in hot:
            if self._sim_hotkeys_enabled():
                self._sim_hotkey(hot[key])  # demo only: lay a simulated card, show a QR code
            else:
                log.info("function key F%d ignored", hot[key])
            return True
        if kiosk_mode and set(modifiers or ()) & {"alt", "ctrl", "meta", "super"}:
            return True  # shortcuts (Alt+F4, Alt+Tab, Ctrl+Q/W/C ...) mean nothing on a kiosk
        return False

    def _sim_hotkeys_enabled(self) -> bool:
        """Simulator hotkeys exist only on a demo kiosk (production refuses sim drivers anyway)."""
        devices = self.cfg.settings.devices
        return bool(getattr(self.cfg, "demo", True)) and "sim" in (
            devices.idcard.driver, devices.sscard.driver, devices.camera.driver)

    def _sim_hotkey(self, n: int) -> None:
        """F1-F5: lay ID card of resident 1-5; F6: take it away;
        F7/F8: insert/remove social-security card of resident 1;
        F9: show resident 1's e-SSC QR code to the camera; F10: show a forged one."""
        if 1 <= n <= 5:
            self.devices.sim_insert("idcard", n - 1)
        elif n == 6:
            self.devices.sim_remove("idcard")
        elif n == 7:
            self.devices.sim_insert("sscard", 0)
        elif n == 8:
            self.devices.sim_remove("sscard")
        elif n in (9, 10):
            self.devices.sim_show_qr(forged=(n == 10))
