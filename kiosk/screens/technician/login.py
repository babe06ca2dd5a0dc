"""Technician login: staff e-SSC QR code (camera or pasted), or the offline PIN when the platform is down."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.core.errors import KioskError
from kiosk.flows import staff_auth as sa
from kiosk.screens.technician.widgets import TechBase
from kiosk.screens.widgets import KKey


class TechLoginScreen(TechBase):
    message = StringProperty("")      # QR login (left column)
    pin_message = StringProperty("")  # offline PIN login: right under the keypad
    pin = StringProperty("")

    def account_touched(self, field: Any, touch: Any) -> bool:
        if not field.collide_point(*touch.pos):
            return False
        from kiosk.screens.keyboards import open_keyboard

        def done(text: str) -> None:
            field.text = text.strip()

        open_keyboard("alnum", "账号", field.text, done, hint="请输入本人账号（字母和数字）")
        return True

    def on_kv_post(self, _base: Any) -> None:
        pad = self.ids.keypad
        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "删除", "清空"]:
            b = KKey(text=key)  # compact keys (row height set by the keypad grid) leave room for the rest
            b.bind(on_release=lambda btn: self.key(btn.text))
            pad.add_widget(b)

    def fill(self, **_params: Any) -> None:
        self.message = ""
        self.pin_message = ""
        self.pin = ""

    def key(self, k: str) -> None:
        if k == "删除":
            self.pin = self.pin[:-1]
        elif k == "清空":
            self.pin = ""
        elif len(self.pin) < 12:
            self.pin += k

    def wipe(self) -> None:
        super().wipe()
        self.pin = ""
        self.message = ""
        self.pin_message = ""
        if self.ids:
            self.ids.qr.text = ""
            self.ids.account.text = ""

    def submit_qr(self, text: str) -> None:
        """Also the entry point for the camera login area: pass the decoded QR text."""
        if not text.strip():
            self.message = "请先扫描或粘贴二维码。"
            return
        self.message = "正在向服务平台核验……"
        ctl = self.controller
        ctl.background(lambda: ctl.mode.login_qr(text), self._done)

    def submit_pin(self, account: str, pin: str) -> None:
        if not account.strip() or not pin:
            self.pin_message = "请先点“账号”输入本人账号，再用数字键输入密码。" if not account.strip() \
                else "请用上面的数字键输入密码。"
            return
        self.pin_message = "正在核对……"
        ctl = self.controller
        ctl.background(lambda: ctl.mode.login_pin(account, pin), self._done)

    def _done(self, result: sa.LoginResult | Exception) -> None:
        self.pin = ""
        if isinstance(result, KioskError):  # platform down during QR verification
            self.message = (result.message_zh or "") + "\n平台不通时，请用右边的离线密码登录。"
            return
        if isinstance(result, Exception):
            self.message = "登录出错，请重试。"
            return
        if not result.ok:
            if result.method == "offline_pin":
                self.pin_message = result.message_zh + self._tries_left(result.account_id)
            else:
                self.message = result.message_zh
            return
        self.ids.qr.text = ""
        self.ids.account.text = ""
        self.message = self.pin_message = ""
        self.controller.logged_in(result)

    def _tries_left(self, account_id: str) -> str:
        """How many wrong PINs are left before this account's logins lock (said beside the keypad)."""
        throttle = self.controller.mode.throttle_for(account_id)
        if throttle.retry_after() > 0:
            return ""  # the lockout message already says how long to wait
        left = throttle.remaining_attempts()
        return f"还可以再试 {left} 次。" if left else ""
