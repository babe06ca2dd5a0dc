"""Typed errors shared by every layer.

Every error the kiosk can meet carries two texts: ``message_zh``, a short
Simplified-Chinese sentence for the screen that says what to do next, and the
exception's own English text for the log. Screens show only ``message_zh``.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every expected failure. Never shown as a traceback."""

    message_zh: str = "操作未成功，请重试或联系工作人员。"

    def __init__(self, log_message: str, message_zh: str | None = None) -> None:
        super().__init__(log_message)
        if message_zh is not None:
            self.message_zh = message_zh


class ConfigError(KioskError):
    message_zh = "设备配置有误，请联系工作人员。"


class CatalogError(KioskError):
    message_zh = "服务事项数据有误，请联系工作人员。"


class DeviceError(KioskError):
    message_zh = "设备暂时无法使用，请联系工作人员。"


class PlatformError(KioskError):
    message_zh = "暂时无法连接服务平台，请稍后再试或到柜台办理。"
