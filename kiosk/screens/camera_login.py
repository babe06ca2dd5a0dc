"""The camera's two jobs on screen: e-SSC QR login on the attract screen, and the
guided photo of the eligibility certification (item 21).

The camera is opened only while one of these screens shows and released
after. Frames are decoded on the decoder's worker thread; the scanned text is
verified by the platform on another worker thread; only the outcome comes
back to the UI thread, through Clock.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable, Protocol

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.label import Label

from kiosk.core.errors import KioskError
from kiosk.screens.widgets import KioskScreen

if TYPE_CHECKING:  # the decoder this screen still runs itself (tests/test_layers.py KNOWN_EXCEPTIONS)
    from kiosk.hardware.qr_decode import DecoderWorker

log = logging.getLogger("kiosk.camera_login")


class _PhotoFlow(Protocol):
    """What the photo screen needs of the running flow (kiosk.flows.engine.ServiceFlow)."""

    def set_photo(self, jpeg: bytes) -> Any: ...


class _FlowScreen(Protocol):
    """What the photo screen needs of the flow screen that opened it (kiosk.screens.flow.FlowScreen)."""

    step: Any  # the engine's current step (message_zh: what to hold up to the camera)
    flow: _PhotoFlow | None

    def run(self, action: Callable[[], Any], busy: str = ...) -> None: ...


class QrLogin:
    """Watches the camera on the attract screen and logs in whoever the platform says."""

    def __init__(self, app, on_code=None) -> None:
        self.app = app
        self.on_code = on_code  # instead of verifying here (the technician login verifies itself)
        self.worker: DecoderWorker | None = None
        self.busy = threading.Lock()
        self.last_result = ""  # for tests and the technician view: "ok", or the refusal code

    def start(self) -> None:
        from kiosk.hardware.qr_decode import DecoderWorker

        cam = self.app.devices.camera
        if cam is None or self.worker is not None:
            return
        c = self.app.cfg.settings.devices.camera
        try:
            cam.start()
        except KioskError as exc:
            log.error("camera did not open: %s", exc)
            return
        # The attract screen idles most of the day: decode only frames where something moved
        # (plus one every 2 s), and try the rescue pass at most once a second (docs/camera.md).
        self.worker = DecoderWorker(c.decoder, source=cam, when_code=self._code, max_rate=c.decode_rate,
                                    gated=True, rescue_every=1.0)
        self.worker.start()
        _users(self.app).add(self)

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.close()
        users = _users(self.app)
        users.discard(self)
        # Kivy enters the next screen before it leaves the last one: when the attract screen's
        # QR login stops, the technician login's may already have started on the same camera.
        cam = self.app.devices.camera
        if cam is not None and not users and not getattr(self.app, "_camera_needed_elsewhere", False):
            cam.close()

    def _code(self, text: str) -> None:  # decoder thread
        if self.on_code is not None:
            self.app.devices.sim_hide_qr()
            Clock.schedule_once(lambda _dt: self.on_code(text), 0)
            return
        if not self.busy.acquire(blocking=False):
            return  # one verification at a time; the same code comes again if it is still shown
        try:
            log.info("QR code scanned (%d characters); verifying with the platform", len(text))
            identity = self.app.backend.platform.verify_essc(text)
            person = identity.resident.as_person() if identity.kind == "resident" else identity.staff.as_person()
            self.last_result = "ok"
            self.app.devices.sim_hide_qr()  # the resident puts the phone away (simulated camera only)
            Clock.schedule_once(lambda _dt: self.app.sessions.login(person), 0)
        except KioskError as exc:
            code = getattr(exc, "code", type(exc).__name__)
            self.last_result = str(code)
            log.warning("QR login refused: %s", exc)
            Clock.schedule_once(lambda _dt, e=exc: self._refused(e), 0)
        except Exception:  # anything else: keep the decoder thread alive, say it briefly
            log.exception("QR login failed unexpectedly")
            self.last_result = "error"
            Clock.schedule_once(lambda _dt: self._refused(KioskError("unexpected QR login failure")), 0)
        finally:
            self.busy.release()

    def _refused(self, exc: KioskError) -> None:
        attract = self.app.sm.get_screen("attract")
        attract.notice(exc.message_zh)
        self.app.voice.say("error_retry")


def _users(app) -> set:
    """The QrLogin instances now watching the camera."""
    if not hasattr(app, "_qr_users"):
        app._qr_users = set()
    return app._qr_users


def _attach_to_attract(app, attract, qr: QrLogin) -> None:
    from kiosk.screens.camera_view import CameraView

    # In the attract screen's qr_slot (top right, beside the site name and clock): the
    # preview, with the caption under it sized to its text, so neither covers the clock.
    slot = attract.ids.qr_slot
    # Drawn only when the picture changes: an unchanged preview would redraw the whole window 10x/s.
    preview = CameraView(size_hint=(None, None), fps=10, pos_hint={"center_x": 0.5}, only_changes=True)

    def preview_size(*_a) -> None:
        # smaller in elder mode: its larger caption and prompt need the height
        pw = app.theme.px(200 if app.theme.elder else 240)
        preview.size = (pw, pw * 9 / 16)

    app.theme.bind(elder=preview_size)
    preview_size()
    caption = Label(text="二维码对准这里", font_size=app.theme.body, color=app.theme.fg, size_hint=(None, None),
                    pos_hint={"center_x": 0.5})
    caption.bind(texture_size=lambda lbl, ts: setattr(lbl, "size", ts))
    app.theme.bind(body=caption.setter("font_size"), fg=caption.setter("color"))

    def fit(*_a) -> None:
        slot.width = max(preview.width, caption.texture_size[0])

    caption.bind(texture_size=fit)
    preview.bind(width=fit)
    slot.add_widget(preview)
    slot.add_widget(caption)
    fit()
    attract.qr_preview = preview

    def entered(*_a) -> None:
        if app.devices.camera is None:
            # Devices start on a worker thread; try again shortly.
            Clock.schedule_once(lambda _dt: entered() if app.sm.current == "attract" else None, 0.5)
            return
        preview.camera = app.devices.camera
        qr.start()
        preview.start()

    def left(*_a) -> None:
        preview.stop()
        qr.stop()

    attract.bind(on_enter=entered, on_leave=left)
    if app.sm.current == "attract":
        Clock.schedule_once(lambda _dt: entered(), 0)


# -- eligibility-certification photo -------------------------------------------------

Builder.load_string("""
<PhotoScreen>:
    BoxLayout:
        orientation: "vertical"
        HeaderBar:
            title: "拍摄认证照片"
            who: app.who_text
        BoxLayout:
            padding: [24, 12]
            spacing: 24
            RelativeLayout:
                id: stage
            BoxLayout:
                orientation: "vertical"
                # wider in elder mode: the larger words must fit beside the picture
                size_hint_x: 0.6 if app.theme.elder else 0.42
                spacing: 16
                Label:
                    text: root.instruction
                    font_size: app.theme.body
                    color: app.theme.fg
                    text_size: self.width, None
                    size_hint_y: None
                    height: self.texture_size[1]
                Label:
                    text: root.countdown_text
                    font_size: app.theme.huge
                    bold: True
                    color: app.theme.accent
                    size_hint_y: None
                    height: self.texture_size[1] if self.text else 0
                Label:
                    id: verdict
                    text: root.verdict
                    font_size: app.theme.body
                    # a usable photo is good news: green, not the red of a refusal
                    color: app.theme.ok if root.accepted else app.theme.accent
                    text_size: self.width, None
                    size_hint_y: None
                    height: self.texture_size[1] if self.text else 0
                Widget:
        BoxLayout:
            id: actions
            size_hint_y: None
            height: max(110, app.theme.button * 2.6)
            padding: [24, 8]
            spacing: 20
            KButton:
                id: shoot
                text: "拍照" if not root.captured else "重拍"
                on_release: root.shoot()
            KButton:
                id: use
                text: "使用这张"
                opacity: 1 if root.accepted else 0
                disabled: not root.accepted
                on_release: root.use()
            KButton:
                id: cancel
                text: "取消"
                danger: True
                on_release: root.cancel()
""")


# Guide shapes as fractions of the picture (x, y from its bottom-left, w, h): where a face and a
# held-up ID card end up in the mirrored preview of a resident standing at the kiosk (the
# simulator's pass.jpg: face box x 0.47-0.63, y 0.51-0.80; card x 0.0-0.25, y 0.33-0.57).
FACE_GUIDE = (0.40, 0.36, 0.30, 0.60)
CARD_GUIDE = (0.02, 0.28, 0.30, 0.34)


class PhotoScreen(KioskScreen):
    """Live preview with a face-and-card frame, 3-2-1 countdown, capture, review, retake."""

    instruction = StringProperty("")
    countdown_text = StringProperty("")
    verdict = StringProperty("")
    countdown = NumericProperty(0)
    captured = NumericProperty(0)
    accepted = NumericProperty(0)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        from kivy.graphics import Color, Line

        # (the flow's rules load with this screen, after the first frame: not with the QR login)
        from kiosk.flows.submission import PHOTO_INSTRUCTION_ZH
        from kiosk.screens.camera_view import CameraView

        self.instruction = PHOTO_INSTRUCTION_ZH

        self.view = CameraView(fps=15, mirror=True)
        self.ids.stage.add_widget(self.view)
        with self.view.canvas.after:  # the frame residents line up with: face left, card right
            Color(1, 0.8, 0, 1)
            self._face = Line(width=3)
            self._card = Line(width=3)
        self.view.bind(pos=self._guides, size=self._guides, picture=self._guides)
        self.jpeg: bytes | None = None
        self.flow_screen: _FlowScreen | None = None

    def guide_boxes(self) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
        """(face ellipse, card rectangle) as x, y, w, h in the view's coordinates, on the picture itself
        (letterboxed inside the view) and in the mirrored preview the resident sees: the face
        upper-middle, the ID card held beside it on the left."""
        x, y, w, h = self.view.picture
        if w <= 0 or h <= 0:  # no frame yet: a 16:9 picture centred in the view
            w = min(self.view.width, self.view.height * 16 / 9)
            h = w * 9 / 16
            x, y = self.view.x + (self.view.width - w) / 2, self.view.y + (self.view.height - h) / 2
        fx, fy, fw, fh = FACE_GUIDE
        cx, cy, cw, ch = CARD_GUIDE
        return ((x + w * fx, y + h * fy, w * fw, h * fh), (x + w * cx, y + h * cy, w * cw, h * ch))

    def _guides(self, *_a) -> None:
        face, card = self.guide_boxes()
        self._face.ellipse = face
        self._card.rectangle = card

    def show(self, flow_screen=None, **_params) -> None:
        self.flow_screen = flow_screen
        self.jpeg, self.captured, self.accepted = None, 0, 0
        self.verdict = ""
        if flow_screen is not None and flow_screen.step is not None and flow_screen.step.message_zh:
            self.instruction = flow_screen.step.message_zh

    def on_enter(self, *_a) -> None:
        app = App.get_running_app()
        app._camera_needed_elsewhere = True
        cam = app.devices.camera
        self.view.camera = cam
        if cam is not None:
            try:
                cam.start()
            except KioskError as exc:
                self.verdict = exc.message_zh
        self.view.start()
        app.voice.say("look_at_camera")

    def on_leave(self, *_a) -> None:
        app = App.get_running_app()
        self.view.stop()
        self.view.clear()
        app._camera_needed_elsewhere = False
        if app.devices.camera is not None:
            app.devices.camera.close()

    def wipe(self) -> None:
        self.jpeg, self.captured, self.accepted, self.verdict = None, 0, 0, ""
        self.view.clear()  # the captured face must not wait on the screen for the next visitor

    def shoot(self) -> None:
        self.verdict, self.accepted = "", 0
        self.countdown = 3
        self.countdown_text = "3"
        App.get_running_app().voice.say("hold_still")
        Clock.schedule_once(self._tick, 1)

    def _tick(self, _dt) -> None:
        self.countdown -= 1
        if self.countdown > 0:
            self.countdown_text = str(self.countdown)
            Clock.schedule_once(self._tick, 1)
            return
        self.countdown_text = ""
        frame = self.view.snapshot()
        if frame is None:
            self.verdict = "没有拍到画面，请联系工作人员检查摄像头。"
            return
        self.captured = 1
        self.view.stop()  # freeze on the captured frame for review
        threading.Thread(target=self._check, args=(frame,), daemon=True).start()

    def _check(self, frame) -> None:  # worker thread: face detection takes a moment
        from kiosk.flows.photo_quality import check_photo, compress_jpeg

        t = photo_thresholds(App.get_running_app().cfg)
        verdict = check_photo(frame, t)
        jpeg = compress_jpeg(frame, t.max_jpeg_bytes, t.max_side) if verdict.ok else None
        Clock.schedule_once(lambda _dt: self._checked(verdict, jpeg), 0)

    def _checked(self, verdict, jpeg) -> None:
        app = App.get_running_app()
        if verdict.ok:
            self.jpeg, self.accepted = jpeg, 1
            self.verdict = "照片清晰，可以使用。"
        else:
            self.verdict = verdict.message_zh
            app.voice.say("photo_failed")
            self.view.start()  # back to live preview for the retake

    def use(self) -> None:
        app = App.get_running_app()
        flow_screen, jpeg = self.flow_screen, self.jpeg
        self.jpeg = None  # the photo now lives only in the flow (then the durable outbox)
        app.go("flow", _push=False)
        if flow_screen is None or flow_screen.flow is None or jpeg is None:
            log.error("photo accepted without a flow to take it; nothing sent")
            return
        flow = flow_screen.flow
        flow_screen.run(lambda: flow.set_photo(jpeg))

    def cancel(self) -> None:
        app = App.get_running_app()
        self.wipe()
        app.go_home()


def photo_thresholds(cfg):
    from kiosk.flows.photo_quality import PhotoThresholds

    p = cfg.settings.photo
    return PhotoThresholds(min_sharpness=p.min_sharpness, min_brightness=p.min_brightness,
                           max_brightness=p.max_brightness, min_face_width=p.min_face_width,
                           max_jpeg_bytes=p.max_jpeg_kb * 1024, max_side=p.max_side)


def _attach_to_tech_login(app, screen) -> None:
    """Staff show their e-SSC code to the same camera to enter technician mode."""
    from kiosk.screens.camera_view import CameraView

    qr = QrLogin(app, on_code=screen.submit_qr)
    preview = CameraView(fps=10)
    screen.ids.camera_area.add_widget(preview)
    screen.qr_preview = preview

    def entered(*_a) -> None:
        qr.start()
        preview.camera = app.devices.camera
        preview.start()

    def left(*_a) -> None:
        preview.stop()
        preview.clear()
        qr.stop()

    screen.bind(on_enter=entered, on_leave=left)


def register(app, sm):
    """Registered before the attract screen's first frame (kiosk.app.attract_modules): the
    preview and its caption are part of it (empty until the camera, started after it, sends
    a picture). The preview imports OpenCV only with its first frame."""
    qr = QrLogin(app)
    _attach_to_attract(app, sm.get_screen("attract"), qr)
    if hasattr(sm, "when_built"):  # technician screens are built on first use
        sm.when_built("tech_login", lambda screen: _attach_to_tech_login(app, screen))
    elif sm.has_screen("tech_login"):
        _attach_to_tech_login(app, sm.get_screen("tech_login"))
    if hasattr(sm, "add_lazy"):  # built soon after the first frame
        sm.add_lazy(["photo"], lambda: sm.add_widget(PhotoScreen(name="photo")), warm=True)
    else:
        sm.add_widget(PhotoScreen(name="photo"))
    return {"qr": qr}
