"""Self-test of every device and service the kiosk depends on (Kivy-free).

``run_selftest(cfg, hub=None)`` returns one :class:`CheckResult` per check, in
a fixed order: ID-card reader, social-security card reader, camera, QR
decoding of a shipped test image, printer, platform (heartbeat), outbox,
disk space, clock. The technician screen and ``kiosk selftest`` show the same
results.

Every check runs on its own daemon thread and is abandoned after its
timeout, so a device that stops answering fails its check ("timeout") and
never hangs the self-test. A disabled device (``driver = "none"``) passes as
"disabled".

With a ``DeviceHub`` the checks use the running devices (the app's own);
with ``hub=None`` the devices are built from the config and closed at the
end. A device whose driver is ``"sim"`` is served by the simulators handed in
(``sims``, or the hub's; ``kiosk.demo_devices`` builds them): this module never
imports a simulator. The platform simulator is started through its launcher
when the platform URL is the local default.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kiosk.core import clock
from kiosk import IMAGES_DIR, ROOT, __version__
from kiosk.core.config import Config
from kiosk.core.idnumber import mask_id
from kiosk.core.settings import Settings
from kiosk.devices import DeviceHub, Simulators, no_simulators

if TYPE_CHECKING:
    from kiosk.platform.adapter import HeartbeatAck, Platform
    from kiosk.platform.outbox import Outbox

log = logging.getLogger("kiosk.selftest")

#: The QR test image shipped with the kiosk and the text it holds.
QR_TEST_IMAGE = IMAGES_DIR / "selftest" / "qr_test.png"
QR_TEST_TEXT = "KIOSK-SELFTEST-QR-0001 自检"

#: The outbox database file in the storage dir (read directly when no Outbox object is given).
OUTBOX_FILE = "outbox.json"

DISK_FAIL_BYTES = 200 * 2**20
DISK_WARN_BYTES = 1 * 2**30
CLOCK_MAX_SKEW_S = 300      # the platform's request signatures allow a few minutes
CLOCK_YEARS = (2024, 2099)
OUTBOX_STALE_S = 24 * 3600

OK, WARN, FAIL, TIMEOUT, DISABLED, SKIPPED = "ok", "warn", "fail", "timeout", "disabled", "skipped"
PASSING = (OK, WARN, DISABLED, SKIPPED)

TITLES_ZH = {
    "idcard": "身份证阅读器",
    "sscard": "社保卡读卡器",
    "camera": "摄像头",
    "qr": "二维码识别",
    "printer": "打印机",
    "platform": "网络与服务平台",
    "outbox": "待提交业务",
    "disk": "存储空间",
    "clock": "系统时间",
}
CHECK_NAMES = tuple(TITLES_ZH)

# Seconds each check may take before it is reported as hung.
TIMEOUTS = {"idcard": 6.0, "sscard": 12.0, "camera": 8.0, "qr": 8.0, "printer": 8.0,
            "platform": 15.0, "outbox": 4.0, "disk": 3.0, "clock": 3.0}


@dataclass
class CheckResult:
    name: str
    ok: bool
    status: str          # ok, warn, fail, timeout, disabled, skipped
    detail_zh: str       # what the technician reads: what is wrong and what to do
    detail_en: str       # precise, for logs and fault reports
    seconds: float
    facts: dict[str, Any] = field(default_factory=dict)  # measured values (resolution, free bytes, ...)

    @property
    def title_zh(self) -> str:
        return TITLES_ZH.get(self.name, self.name)

    @property
    def status_zh(self) -> str:
        return {OK: "正常", WARN: "注意", FAIL: "故障", TIMEOUT: "无响应", DISABLED: "未启用",
                SKIPPED: "跳过"}.get(self.status, self.status)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["title_zh"] = self.title_zh
        d["seconds"] = round(self.seconds, 3)
        return d


@dataclass
class _Outcome:
    status: str
    detail_zh: str
    detail_en: str
    facts: dict[str, Any] = field(default_factory=dict)


def all_ok(results: list[CheckResult]) -> bool:
    return all(r.ok for r in results)


def summary_zh(results: list[CheckResult]) -> str:
    bad = [r.title_zh for r in results if not r.ok]
    return "全部正常" if not bad else "有故障：" + "、".join(bad)


def results_json(results: list[CheckResult]) -> str:
    return json.dumps({"ok": all_ok(results), "version": __version__,
                       "checks": [r.to_dict() for r in results]}, ensure_ascii=False, indent=1, default=str)


# ---------------------------------------------------------------------------
# The devices a run uses: the hub's, or built from config (and closed after).


class _Context:
    def __init__(self, cfg: Config, hub: DeviceHub | None, platform: Platform | None, outbox: Outbox | None,
                 test_page: bool, sims: Simulators | None = None) -> None:
        self.cfg = cfg
        self.settings: Settings = cfg.settings
        self.hub = hub
        self.test_page = test_page
        self.sims = sims if sims is not None else getattr(hub, "sims", None)
        self._platform = platform if platform is not None else getattr(hub, "platform", None)
        self.outbox = outbox if outbox is not None else getattr(hub, "outbox", None)
        self._owned: list[Any] = []
        self._lock = threading.Lock()
        self.heartbeat: HeartbeatAck | None = None  # the platform check's answer, for the clock check
        self.heartbeat_sent: float = 0.0
        self.sim_handle: Any = None

    def own(self, thing: Any) -> Any:
        with self._lock:
            self._owned.append(thing)
        return thing

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned[::-1], []
        for thing in owned:
            try:
                stop = thing.stop if hasattr(thing, "process") else thing.close
                stop()
            except Exception as exc:  # noqa: BLE001 - cleanup goes on for the rest
                log.warning("selftest cleanup of %r: %s", thing, exc)

    def simulators(self, name: str) -> Simulators:
        """The simulators serving a ``driver = "sim"`` device (DeviceError when none were handed in)."""
        if self.sims is None:
            raise no_simulators(name)
        return self.sims

    # -- platform ---------------------------------------------------------
    def platform(self) -> Platform:
        if self._platform is not None:
            return self._platform
        from kiosk.platform.http_client import HttpPlatform

        p = self.settings.platform
        if p.start_simulator and self.hub is None:
            from kiosk.platform.simulator.launcher import ensure_simulator

            handle = ensure_simulator(p.url, p.simulator_seed, device_secret=p.device_secret)
            if handle is not None:
                self.sim_handle = self.own(handle)
        # One attempt: the self-test reports what it sees now, a retry loop would only hide it.
        platform: HttpPlatform = self.own(HttpPlatform(p.url, self.settings.site.device_id, p.device_secret,
                                         connect_timeout=p.connect_timeout, read_timeout=p.read_timeout,
                                         max_attempts=1))
        self._platform = platform
        return platform


# ---------------------------------------------------------------------------
# Checks. Each returns an _Outcome; exceptions become "fail" with their message.


def _check_idcard(ctx: _Context) -> _Outcome:
    c = ctx.settings.devices.idcard
    if c.driver == "none":
        return _Outcome(DISABLED, "未启用（配置 driver = none）", "idcard disabled by config")
    reader: Any = ctx.hub.idcard if ctx.hub is not None else None
    if reader is None:
        from kiosk.hardware.idcard_reader import IdCardReader

        port = c.port
        if c.driver == "sim":
            # The simulator's own residents over a serial pty (no card on it): the reader answers.
            port = ctx.simulators("idcard").idcard_port(transport="serial", demo_residents=False)
        if not port:
            return _Outcome(FAIL, "未配置身份证阅读器端口：请在配置文件 [devices.idcard] port 填写（如 /dev/kiosk-idcard）。",
                            "idcard port not configured")
        reader = ctx.own(IdCardReader(port, baudrate=c.baudrate, timeout=1.0))
    port = getattr(reader, "port", "")
    try:
        sam = reader.read_sam_id()
    except Exception as exc:  # noqa: BLE001
        return _Outcome(FAIL, "身份证阅读器无响应：请检查阅读器的数据线（USB/串口）是否插好、电源灯是否亮；"
                              "重新插拔后再次自检，仍不行请更换阅读器并反映问题。",
                        f"idcard reader on {port}: SAM id not read: {type(exc).__name__}: {exc}", {"port": port})
    facts = {"port": port, "sam_id": sam}
    from kiosk.hardware.idcard_protocol import NoCardError

    try:
        rec = reader.read_card()
    except NoCardError as exc:  # the usual answer: nobody laid a card on the reader
        return _Outcome(OK, f"阅读器正常（安全模块号 {sam}）；未放卡，未测试读卡。",
                        f"SAM {sam}; no card found ({exc})", facts)
    except Exception as exc:  # noqa: BLE001
        return _Outcome(FAIL, "阅读器正常，但读卡失败：请把身份证平放在感应区中央、不要移动；"
                              "换一张身份证再试，仍失败请反映问题。",
                        f"SAM {sam}; card read failed: {type(exc).__name__}: {exc}", facts)
    number = getattr(rec, "id_number", "")
    facts["card"] = mask_id(number)
    return _Outcome(OK, f"阅读器正常（安全模块号 {sam}）；读卡成功（{mask_id(number)}）。",
                    f"SAM {sam}; card read {mask_id(number)}", facts)


def _check_sscard(ctx: _Context) -> _Outcome:
    c = ctx.settings.devices.sscard
    if c.driver == "none":
        return _Outcome(DISABLED, "未启用（配置 driver = none）", "sscard disabled by config")
    from kiosk.hardware import pcsc_stack

    if c.driver == "sim":
        try:
            pcsc_stack.ensure_pcscd(timeout=8.0)
        except Exception as exc:  # noqa: BLE001
            return _Outcome(FAIL, "社保卡读卡服务（pcscd）无法启动：请重启本机；仍不行请反映系统问题。",
                            f"pcscd: {exc}")
    readers = pcsc_stack.list_readers()
    if readers is None:
        return _Outcome(FAIL, "社保卡读卡服务（pcscd）未运行：请重启本机；仍不行请反映系统问题。",
                        "pcscd does not answer (SCardEstablishContext failed)")
    wanted = c.reader
    matching = [r for r in readers if wanted in r] if wanted else readers
    facts: dict[str, Any] = {"readers": readers}
    if not matching:
        return _Outcome(FAIL, "未找到社保卡读卡器：请检查读卡器的USB线是否插好，重新插拔后再次自检。",
                        f"no PC/SC reader matching {wanted!r}; readers: {readers}", facts)
    hub_reader = ctx.hub.sscard if ctx.hub is not None else None
    if hub_reader is not None and hasattr(hub_reader, "offline_reason"):
        st = str(getattr(hub_reader.status, "value", hub_reader.status))
        facts["driver_status"] = st
        if st == "offline":
            return _Outcome(FAIL, "社保卡读卡器离线：请重新插拔读卡器USB线后再次自检。",
                            f"sscard driver offline: {hub_reader.offline_reason}", facts)
    reader = next((r for r in matching if r.startswith(pcsc_stack.VPCD_READER_PREFIX)), matching[0]) \
        if c.driver == "sim" and not wanted else matching[0]
    facts["reader"] = reader
    if c.driver == "sim":
        # The simulated readers are shared with other virtual cards: read our own test card.
        return _sim_sscard_read(ctx.simulators("sscard"), facts)
    if pcsc_stack.wait_card_state(reader, True, timeout=0.6):
        return _read_sscard(reader, facts)
    return _Outcome(OK, f"读卡器正常（{reader}）；未插卡，未测试读卡。", f"reader {reader}; no card", facts)


def _read_sscard(reader: str, facts: dict[str, Any]) -> _Outcome:
    from smartcard import scard

    from kiosk.hardware.sscard_reader import read_card

    hresult, pctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return _Outcome(FAIL, "社保卡读卡服务（pcscd）未运行：请重启本机。", f"SCardEstablishContext 0x{hresult:08X}", facts)
    try:
        rec = read_card(pctx, reader)
    except Exception as exc:  # noqa: BLE001
        zh = getattr(exc, "message_zh", None) or "社保卡读取失败"
        return _Outcome(FAIL, f"读卡器正常，但读卡失败：{zh}", f"reader {reader}: {type(exc).__name__}: {exc}", facts)
    finally:
        scard.SCardReleaseContext(pctx)
    facts["card"] = mask_id(rec.card_number)
    return _Outcome(OK, f"读卡器正常（{reader}）；读卡成功（卡号 {mask_id(rec.card_number)}）。",
                    f"reader {reader}; card {mask_id(rec.card_number)} read", facts)


def _sim_sscard_read(sims: Simulators, facts: dict[str, Any]) -> _Outcome:
    """Simulated reader with no card: insert the test card on a free vpcd slot and read it."""
    try:
        card = sims.sscard_test_card()
    except Exception as exc:  # noqa: BLE001 - every slot busy (another card in use): skip the read
        return _Outcome(OK, "模拟读卡器正常；读卡位被占用，未测试读卡。", f"no free vpcd slot: {exc}", facts)
    try:
        card.insert(timeout=4.0)
        reader = card.reader or facts.get("reader", "")
        if not pcsc_wait(reader):
            return _Outcome(FAIL, "模拟社保卡插入后读卡器无反应：请重启本机。", f"virtual card not seen in {reader}", facts)
        out = _read_sscard(reader, facts)
        out.detail_zh = out.detail_zh.replace("读卡成功", "测试卡读卡成功")
        return out
    finally:
        card.close()


def pcsc_wait(reader: str) -> bool:
    from kiosk.hardware.pcsc_stack import wait_card_state

    return wait_card_state(reader, True, timeout=3.0)


def _check_camera(ctx: _Context) -> _Outcome:
    c = ctx.settings.devices.camera
    if c.driver == "none":
        return _Outcome(DISABLED, "未启用（配置 driver = none）", "camera disabled by config")
    cam: Any = ctx.hub.camera if ctx.hub is not None else None
    started_here = False
    if cam is None or not getattr(cam, "is_open", False):
        from kiosk.hardware.camera import make_camera

        if cam is None:
            cam = ctx.own(make_camera(c.driver, c.device, c.sim_source, fps=c.fps, root=ROOT))
        cam.start()
        started_here = True
    where = c.device if c.driver == "opencv" else c.sim_source
    try:
        deadline = time.monotonic() + TIMEOUTS["camera"] - 1.5
        frame = None
        while time.monotonic() < deadline:
            frame = cam.latest() or cam.wait_frame(0, timeout=0.2)
            if frame is not None or cam.status == "error":
                break
        if frame is None:
            err = cam.error or "no frame"
            return _Outcome(FAIL, "摄像头无法打开或没有画面：请检查摄像头USB线是否插好（设备 "
                                  f"{where}），重新插拔后再次自检；仍不行请更换摄像头。",
                            f"camera {c.driver}:{where}: {err}", {"device": where})
        import cv2

        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY) if frame.image.ndim == 3 else frame.image
        brightness = float(gray.mean())
        w, h = frame.size
        facts = {"device": where, "width": w, "height": h, "brightness": round(brightness, 1)}
        base = f"画面 {w}×{h}，亮度 {brightness:.0f}/255"
        en = f"camera {c.driver}:{where}: frame {w}x{h}, mean brightness {brightness:.1f}"
        if brightness < 15:
            return _Outcome(FAIL, f"{base}：画面几乎全黑，请检查镜头是否被遮挡、盖子是否打开。", en + " (black)", facts)
        if w < 640 or h < 480:
            return _Outcome(WARN, f"{base}：分辨率偏低，二维码可能识别不了，请检查摄像头型号。", en + " (low resolution)", facts)
        if brightness < 50:
            return _Outcome(WARN, f"{base}：画面偏暗，请打开补光灯或调整照明。", en + " (dark)", facts)
        if brightness > 230:
            return _Outcome(WARN, f"{base}：画面过亮，请避开直射的阳光或灯光。", en + " (bright)", facts)
        return _Outcome(OK, base + "，正常。", en, facts)
    finally:
        if started_here and ctx.hub is not None:
            cam.close()


def _check_qr(ctx: _Context) -> _Outcome:
    from kiosk.hardware.qr_decode import make_decoder, read_image

    name = ctx.settings.devices.camera.decoder
    try:
        image = read_image(str(QR_TEST_IMAGE))
    except OSError as exc:
        return _Outcome(FAIL, "自检用二维码图片缺失：软件安装不完整，请反映系统问题。", f"QR test image: {exc}")
    texts = make_decoder(name).decode(image)
    if QR_TEST_TEXT in texts:
        return _Outcome(OK, f"测试二维码识别正确（{name}）。", f"decoder {name} read the test image", {"decoder": name})
    return _Outcome(FAIL, "测试二维码识别失败：二维码识别组件异常，请反映系统问题。",
                    f"decoder {name} returned {texts!r} for {QR_TEST_IMAGE.name}", {"decoder": name})


def test_page_bytes(cfg: Config) -> bytes:
    from kiosk.hardware import escpos_commands as cmd

    site = cfg.settings.site
    lines = ["自检测试页", f"设备：{site.device_id}", f"站点：{site.name}",
             f"时间：{clock.now():%Y-%m-%d %H:%M:%S}", "如能看清本页文字，打印机正常。"]
    body = b"".join(line.encode("gb18030") + cmd.LF for line in lines)
    return cmd.INIT + cmd.CHINESE_ON + body + cmd.CHINESE_OFF + cmd.feed(3) + cmd.cut()


def _check_printer(ctx: _Context) -> _Outcome:
    c = ctx.settings.devices.printer
    if c.driver == "none":
        return _Outcome(DISABLED, "未启用（配置 driver = none）", "printer disabled by config")
    printer: Any = ctx.hub.printer if ctx.hub is not None else None
    if printer is None:
        from kiosk.hardware.printer import ReceiptPrinter

        port = c.port
        if c.driver == "sim":
            port = ctx.simulators("printer").printer_port()  # the simulator's default status family
        printer = ctx.own(ReceiptPrinter(c.driver, port, usb_vendor=c.usb_vendor, usb_product=c.usb_product,
                                         paper_width=c.paper_width, text_mode=c.text_mode, timeout=c.timeout,
                                         qr_mode=c.qr_mode, baudrate=c.baudrate))
    where = getattr(printer, "port", "") or c.driver
    try:
        st = printer.status()
    except Exception as exc:  # noqa: BLE001 - PrinterOffline and friends
        return _Outcome(FAIL, "打印机未连接或未开机：请检查打印机电源、数据线（或网线），开机后再次自检。",
                        f"printer {c.driver} {where}: {type(exc).__name__}: {exc}", {"port": where})
    facts = {"port": where, "status": st.text_zh(), "raw": st.raw.hex(), "paper_width": c.paper_width}
    en = f"printer {c.driver} {where}: status {st.raw.hex() or 'unknown'}"
    if st.known and st.paper_out:
        return _Outcome(FAIL, "打印机缺纸：请打开纸仓盖，装入新的热敏纸卷（光面朝打印头），合上盖子后再次自检。",
                        en + " paper out", facts)
    if st.known and st.cover_open:
        return _Outcome(FAIL, "打印机纸仓盖没有合上：请把纸仓盖按紧合上后再次自检。", en + " cover open", facts)
    if st.known and not st.online:
        return _Outcome(FAIL, "打印机离线：请检查打印机电源和指示灯，关机再开机后再次自检。", en + " offline", facts)
    note = ""
    if ctx.test_page:
        try:
            res = printer.print_job(test_page_bytes(ctx.cfg), label="selftest")
            note = "；已打印测试页，请查看字迹是否清楚"
            facts["test_page"] = str(getattr(res, "key", "printed"))
        except Exception as exc:  # noqa: BLE001
            return _Outcome(FAIL, f"打印测试页失败：{getattr(exc, 'message_zh', '')}请检查打印机后再次自检。",
                            f"{en}; test page failed: {type(exc).__name__}: {exc}", facts)
    if st.known and st.paper_near_end:
        return _Outcome(WARN, "打印纸即将用完：请准备新的纸卷并尽快更换" + note + "。", en + " paper near end", facts)
    if not st.known:
        return _Outcome(OK, "打印机连接方式无法回读状态（如 file），请打印测试页确认" + note + "。", en, facts)
    return _Outcome(OK, "打印机正常" + note + "。", en + " ready", facts)


def _check_platform(ctx: _Context) -> _Outcome:
    from kiosk.platform.adapter import AuthError, Timeout, Unreachable

    url = ctx.settings.platform.url
    facts: dict[str, Any] = {"url": url}
    try:
        platform = ctx.platform()
        ctx.heartbeat_sent = time.time()
        ack = platform.heartbeat({"selftest": True, "version": __version__})
    except Unreachable as exc:
        return _Outcome(FAIL, "无法连接服务平台：请检查网线或4G信号、路由器电源；网络恢复后，暂存的业务会自动提交。"
                              "急办业务请引导群众到乡镇便民服务中心柜台办理。",
                        f"platform {url} unreachable: {exc}", facts)
    except Timeout as exc:
        return _Outcome(FAIL, "服务平台响应超时：网络可能很慢，请检查网络信号；多次超时请反映系统问题。",
                        f"platform {url} timed out: {exc}", facts)
    except AuthError as exc:
        return _Outcome(FAIL, "服务平台拒绝本机认证：请核对设备编号和设备密钥，并检查本机时间是否准确。",
                        f"platform {url} rejected the device: {exc}", facts)
    except Exception as exc:  # noqa: BLE001
        return _Outcome(FAIL, "服务平台返回异常：请稍后再次自检；仍不行请反映系统问题。",
                        f"platform {url}: {type(exc).__name__}: {exc}", facts)
    ctx.heartbeat = ack
    facts["server_time"] = ack.server_time
    if ctx.sim_handle is not None:
        facts["simulator"] = True
    if not ack.ok:
        return _Outcome(WARN, f"服务平台已连接，但提示：{ack.message or '状态异常'}", f"platform {url}: heartbeat not ok: {ack.message}", facts)
    sim = "（本机模拟平台）" if ctx.sim_handle is not None else ""
    return _Outcome(OK, f"服务平台连接正常{sim}。", f"platform {url}: heartbeat ok, server time {ack.server_time}", facts)


def outbox_counts_from_file(path: Path) -> dict[str, Any] | None:
    """Counts by state in an outbox file read as it is (no Outbox opened); None when there is none.
    ValueError when the file is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    recs = list((data.get("outbox") or {}).values())
    counts: dict[str, Any] = {s: sum(1 for r in recs if r.get("state") == s)
                              for s in ("pending", "delivered", "refused", "failed")}
    pend = [r.get("created_mono", 0) for r in recs if r.get("state") == "pending"]
    counts["oldest_pending_age_s"] = max(0.0, time.time() - min(pend)) if pend else None
    return counts


def _check_outbox(ctx: _Context) -> _Outcome:
    if ctx.outbox is not None:
        s = ctx.outbox.status()
        counts: dict[str, Any] = {"pending": s.pending, "delivered": s.delivered, "refused": s.refused, "failed": s.failed,
                  "oldest_pending_age_s": s.oldest_pending_age_s}
    else:
        path = ctx.settings.storage.dir / OUTBOX_FILE
        try:
            from_file = outbox_counts_from_file(path)
        except ValueError as exc:
            return _Outcome(FAIL, "暂存业务数据文件损坏：请不要关机，反映系统问题。", f"outbox {path}: {exc}")
        if from_file is None:
            return _Outcome(OK, "没有暂存的业务。", f"no outbox file at {path}", {"pending": 0})
        counts = from_file
    pending, failed = counts["pending"], counts["failed"]
    age = counts.get("oldest_pending_age_s")
    en = (f"outbox pending={pending} failed={failed} delivered={counts['delivered']} refused={counts['refused']}"
          + (f" oldest pending {age:.0f}s" if age is not None else ""))
    if failed:
        return _Outcome(FAIL, f"有 {failed} 笔业务提交被平台拒收，需要技术人员处理：请在“待提交业务”中查看并反映问题。", en, counts)
    if pending and age is not None and age > OUTBOX_STALE_S:
        return _Outcome(WARN, f"有 {pending} 笔业务暂存超过一天仍未提交：请检查网络，并在“待提交业务”中点“立即重试”。", en, counts)
    if pending:
        return _Outcome(WARN, f"有 {pending} 笔业务暂存，网络正常后会自动提交。", en, counts)
    return _Outcome(OK, "没有暂存的业务，全部已提交。", en, counts)


def _check_disk(ctx: _Context) -> _Outcome:
    path = ctx.settings.storage.dir
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    facts = {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
    free = f"剩余 {usage.free / 2**30:.1f} GB（共 {usage.total / 2**30:.0f} GB）"
    en = f"storage {path}: {usage.free} of {usage.total} bytes free"
    if usage.free < DISK_FAIL_BYTES:
        return _Outcome(FAIL, f"存储空间不足（{free}）：业务无法暂存，请立即反映系统问题。", en, facts)
    if usage.free < DISK_WARN_BYTES:
        return _Outcome(WARN, f"存储空间偏少（{free}）：请反映系统问题，安排清理。", en, facts)
    return _Outcome(OK, f"{free}，正常。", en, facts)


def _check_clock(ctx: _Context, now: Callable[[], float] = time.time) -> _Outcome:
    t = now()
    local = _dt.datetime.fromtimestamp(t, clock.timezone())
    facts: dict[str, Any] = {"local_time": local.isoformat(timespec="seconds")}
    if not CLOCK_YEARS[0] <= local.year <= CLOCK_YEARS[1]:
        return _Outcome(FAIL, f"本机时间明显错误（{local:%Y-%m-%d %H:%M}）：请检查主板电池，连上网络后重启本机自动对时。",
                        f"implausible local clock {local.isoformat()}", facts)
    ack = ctx.heartbeat
    if ack is None:
        return _Outcome(OK, f"本机时间 {local:%Y-%m-%d %H:%M}；未连上平台，无法核对误差。",
                        f"local clock {local.isoformat()}; no platform time to compare", facts)
    try:
        server = _dt.datetime.fromisoformat(ack.server_time)
    except ValueError:
        return _Outcome(OK, f"本机时间 {local:%Y-%m-%d %H:%M}；平台时间格式无法识别。",
                        f"unparseable server time {ack.server_time!r}", facts)
    if server.tzinfo is None:
        server = server.replace(tzinfo=clock.timezone())
    skew = t - server.timestamp()
    if abs(skew) < 2 and ctx.heartbeat_sent:
        skew = 0.0
    facts["skew_s"] = round(skew, 1)
    if abs(skew) > CLOCK_MAX_SKEW_S:
        return _Outcome(FAIL, f"本机时间与平台相差 {abs(skew) / 60:.0f} 分钟：请连上网络后重启本机自动对时；"
                              "时间不准会导致平台拒绝本机的请求。", f"clock skew {skew:.1f}s vs platform", facts)
    return _Outcome(OK, f"本机时间 {local:%Y-%m-%d %H:%M}，与平台相差 {abs(skew):.0f} 秒，正常。",
                    f"clock skew {skew:.1f}s vs platform", facts)


CHECKS: dict[str, Callable[[_Context], _Outcome]] = {
    "idcard": _check_idcard, "sscard": _check_sscard, "camera": _check_camera, "qr": _check_qr,
    "printer": _check_printer, "platform": _check_platform, "outbox": _check_outbox, "disk": _check_disk,
    "clock": _check_clock,
}


def _run_one(name: str, fn: Callable[[_Context], _Outcome], ctx: _Context, timeout: float) -> CheckResult:
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["out"] = fn(ctx)
        except Exception as exc:  # noqa: BLE001 - a check bug is a failed check, not a crashed self-test
            log.exception("selftest check %s raised", name)
            zh = getattr(exc, "message_zh", None) or "检查时出错"
            box["out"] = _Outcome(FAIL, f"{zh}（请反映系统问题）", f"{type(exc).__name__}: {exc}")

    t0 = time.monotonic()
    th = threading.Thread(target=work, name=f"selftest-{name}", daemon=True)
    th.start()
    th.join(timeout)
    seconds = time.monotonic() - t0
    out = box.get("out")
    if out is None:
        log.error("selftest check %s did not finish within %.0fs (abandoned)", name, timeout)
        out = _Outcome(TIMEOUT, f"{TITLES_ZH.get(name, name)}在 {timeout:.0f} 秒内没有响应：请关机检查连线后重启本机；"
                                "仍不行请反映系统问题。", f"check {name} did not finish within {timeout:.1f}s")
    res = CheckResult(name, out.status in PASSING, out.status, out.detail_zh, out.detail_en, seconds, out.facts)
    (log.info if res.ok else log.warning)("selftest %s: %s (%.2fs) %s", name, res.status, seconds, res.detail_en)
    return res


def run_selftest(cfg: Config, hub: DeviceHub | None = None, *, platform: Platform | None = None,
                 outbox: Outbox | None = None, sims: Simulators | None = None,
                 only: list[str] | None = None, test_page: bool = False,
                 timeouts: dict[str, float] | None = None,
                 on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run the checks (all, or ``only`` those named) and return their results in order.

    ``hub``: the app's DeviceHub (its idcard, printer and, when present, sscard,
    camera, platform and outbox are used). ``platform``/``outbox``: a Platform
    adapter and an Outbox to use instead of building one. ``sims``: the
    simulators serving ``driver = "sim"`` devices (default: the hub's; the
    stand-alone ``kiosk selftest`` passes ``kiosk.demo_devices.DemoDevices``). ``on_result`` is
    called after each check (from the calling thread), e.g. to show progress.
    """
    names = [n for n in CHECK_NAMES if only is None or n in only]
    # A printer status is up to two reads of ``timeout`` (stale connection, one retry);
    # a heartbeat is a connect plus a read.
    settings = cfg.settings
    p = settings.platform
    limits = {**TIMEOUTS,
              "printer": max(TIMEOUTS["printer"], 2 * settings.devices.printer.timeout + 2),
              "platform": max(TIMEOUTS["platform"], p.connect_timeout + p.read_timeout + 3),
              **(timeouts or {})}
    ctx = _Context(cfg, hub, platform, outbox, test_page, sims)
    results: list[CheckResult] = []
    try:
        for name in names:
            res = _run_one(name, CHECKS[name], ctx, limits[name])
            results.append(res)
            if on_result is not None:
                on_result(res)
    finally:
        ctx.close()
    log.info("selftest done: %s", "all ok" if all_ok(results) else
             "failed: " + ", ".join(r.name for r in results if not r.ok))
    return results
