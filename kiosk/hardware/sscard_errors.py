"""Typed errors of the social-security card stack (PC/SC, card, data).

Each carries a short Chinese ``message_zh`` for the screen (what to do next)
and an English log text that never holds a full ID number or name.
"""

from __future__ import annotations

import datetime as _dt

from kiosk.core.errors import DeviceError


class PcscStackError(DeviceError):
    """pcscd or the vpcd virtual reader driver is missing or will not start."""

    message_zh = "读卡服务未启动，请联系工作人员。"


class SsCardError(DeviceError):
    """Base of every failure while reading a social-security card."""

    message_zh = "社会保障卡读取失败，请取出后重新插卡。"


class SsCardReaderError(SsCardError):
    """The reader is gone or PC/SC failed (not the card's fault)."""

    message_zh = "社保卡读卡器暂时无法使用，请联系工作人员。"


class SsCardRemovedError(SsCardError):
    """The card left the reader before every file was read."""

    message_zh = "读卡时卡片被拔出，请重新插卡，读完之前不要拔卡。"


class SsCardTimeoutError(SsCardError):
    """The card or reader did not answer within the read timeout."""

    message_zh = "读卡超时，请取出社会保障卡后重新插入。"


class SsCardApplicationError(SsCardError):
    """The card has no social-security application (another kind of card)."""

    message_zh = "无法识别此卡，请插入本人的社会保障卡。"


class SsCardStatusError(SsCardError):
    """The card answered a command with a status word other than 9000."""

    message_zh = "社会保障卡读取失败，请重新插卡；仍不行请到柜台办理。"

    def __init__(self, log_message: str, sw: int, message_zh: str | None = None) -> None:
        super().__init__(log_message, message_zh)
        self.sw = sw


class SsCardDataError(SsCardError):
    """The card's records are malformed (TLV, GBK, BCD, dates, number)."""

    message_zh = "社会保障卡信息无法识别，请到柜台办理。"


class SsCardExpiredError(SsCardError):
    """The card is past its expiry date (卡有效期)."""

    message_zh = "您的社会保障卡已过有效期，请到柜台办理换卡。"

    def __init__(self, log_message: str, expiry_date: _dt.date, record: object = None) -> None:
        super().__init__(log_message)
        self.expiry_date = expiry_date
        self.record = record  # the parsed SsCardRecord (repr is masked)
