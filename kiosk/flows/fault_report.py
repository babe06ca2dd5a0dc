"""Fault reports: the seed's 故障排除上下联动工作流程 (seeds/004, annex 4).

A service point reports a problem in one of three categories; the platform
routes it: system problems (流程不符合逻辑、操作不便捷、界面不美观) and
functional problems (缺少与实际工作对应的操作模块) go to the provincial team
(省工作专班), business-guidance problems (操作错误、不懂操作) to the county
bureau (县人社部门), who answer with a result and a reply deadline.

``FaultLedger`` is the local problem ledger (问题台账): every report is stored
durably (``kiosk.core.storage.open_db``) before it is sent, carries its own
idempotency key (a resend after a lost answer or a restart is recorded once by
the platform), and keeps the ticket number, the routing, the reply deadline
and the replies fetched from the platform.

The report text carries the description, a suggested solution, device and
site, the self-test results and a recent log excerpt with personal data
removed (ID numbers via ``scrub``, names and phone numbers masked). Kivy-free.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tinydb import Query

from kiosk import __version__
from kiosk.core import clock
from kiosk.core.config import Config
from kiosk.core.errors import KioskError
from kiosk.core.idnumber import mask_name, scrub
from kiosk.core.storage import open_db

log = logging.getLogger("kiosk.faults")

MAX_DESCRIPTION = 2000  # the platform contract's limit on the report text
MAX_LOG_LINES = 30
LEDGER_FILE = "faults.json"


@dataclass(frozen=True)
class FaultCategory:
    key: str
    name_zh: str
    examples_zh: str
    routed_to_zh: str


#: The seed's three problem types and where each goes (annex 4, 一、三).
CATEGORIES: dict[str, FaultCategory] = {
    "system": FaultCategory("system", "系统性问题", "流程不符合逻辑、操作不便捷、界面不美观、设备故障", "省工作专班"),
    "function": FaultCategory("function", "功能性问题", "缺少与实际工作对应的操作模块", "省工作专班"),
    "guidance": FaultCategory("guidance", "业务指导性问题", "操作错误、不懂操作", "县人社部门"),
}

#: Preset problem phrases per category (Kivy has no Chinese IME: the clerk taps, not types).
PRESET_PHRASES: dict[str, list[str]] = {
    "system": [
        "身份证读不出",
        "社保卡读不出",
        "摄像头没有画面",
        "扫码登录失败",
        "打印机不出纸或缺纸",
        "连不上服务平台",
        "屏幕卡住或没有反应",
        "办理流程不符合实际",
        "操作步骤太繁琐",
        "界面文字看不清",
    ],
    "function": ["缺少需要办理的业务", "查询结果不全", "回执内容缺项", "不能打印材料清单", "不能补打回执"],
    "guidance": ["不清楚办理条件", "不会操作某项业务", "群众咨询的问题答不了", "办理结果与政策不符"],
}

PRESET_SUGGESTIONS: list[str] = [
    "请远程检查设备",
    "请安排技术人员上门维修",
    "请更换故障部件",
    "请增加该功能模块",
    "请提供操作培训",
    "请电话指导",
]

STATE_ZH = {"pending": "待发送", "sent": "已提交", "replied": "已回复"}


class FaultReportError(KioskError):
    message_zh = "问题反映填写不完整，请选择问题分类并描述问题。"


# ---------------------------------------------------------------------------
# Removing personal data from log lines


# Common surnames: a short run of Chinese characters starting with one of
# these, standing alone in an (English) log line, is almost certainly a name.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝乌阿"
)
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
# Characters of everyday UI/log words that hardly ever occur in personal names:
# a run holding one is a word (成功, 时间, 全部正常, 连接失败), not a name.
_NOT_NAME = set(
    "的了是在不请已未无有与或及中上下内外后前时分秒年月日号卡证码纸机器件错误失败功正常连接网络平台"
    "打印读取身份社保业务办理服务站村镇县市省区部全缺开关闭电源线屏幕设备问题系统能性导指检查测试状态"
)
_STANDALONE_CJK = re.compile(rf"(?<![{_CJK}])([{_CJK}]{{2,4}}(?:[·•][{_CJK}]{{1,6}})?)(?![{_CJK}])")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_NAME_FIELD = re.compile(r"((?:name|姓名)\s*[=:：]\s*)([^\s,;，；)]+)", re.IGNORECASE)


def scrub_line(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with ID numbers, phone numbers and (likely) personal names masked."""
    out = scrub(text)
    for name in names:
        if name and len(name) >= 2:
            out = out.replace(name, mask_name(name))
    out = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), out)
    out = _NAME_FIELD.sub(lambda m: m.group(1) + mask_name(m.group(2)), out)

    def maybe_name(m: re.Match[str]) -> str:
        run = m.group(1)
        return mask_name(run) if run[0] in _SURNAMES and not (set(run) & _NOT_NAME) else run

    return _STANDALONE_CJK.sub(maybe_name, out)


def log_excerpt(lines: Iterable[str], names: Iterable[str] = (), max_lines: int = MAX_LOG_LINES) -> list[str]:
    names = list(names)
    picked = [scrub_line(line, names) for line in lines]
    return picked[-max_lines:] if max_lines > 0 else []


# ---------------------------------------------------------------------------
# Records


@dataclass
class FaultReply:
    at: str
    by_zh: str
    text_zh: str


@dataclass
class FaultRecord:
    local_id: str
    idempotency_key: str
    category: str
    phrases: list[str]
    text: str
    suggestion: str
    reporter: str  # masked: "technician05 张**"
    device_id: str
    site: str
    created_at: str
    description: str  # the full text sent to the platform
    selftest: list[dict[str, Any]] = field(default_factory=list)
    state: str = "pending"  # pending (stored, not yet accepted) | sent | replied
    fault_no: str = ""
    routed_to_zh: str = ""
    reply_due: str = ""  # ISO date
    attempts: int = 0
    last_error: str = ""
    replies: list[FaultReply] = field(default_factory=list)

    @property
    def category_zh(self) -> str:
        return CATEGORIES[self.category].name_zh

    @property
    def state_zh(self) -> str:
        return STATE_ZH.get(self.state, self.state)

    @property
    def summary_zh(self) -> str:
        return "；".join(self.phrases + ([self.text] if self.text else [])) or "（无描述）"

    @property
    def reply_due_zh(self) -> str:
        if not self.reply_due:
            return ""
        d = _dt.date.fromisoformat(self.reply_due)
        return f"{d.year}年{d.month}月{d.day}日前反馈"

    def overdue(self, today: _dt.date | None = None) -> bool:
        if not self.reply_due or self.state == "replied":
            return False
        return (today or clock.today()) > _dt.date.fromisoformat(self.reply_due)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FaultRecord:
        d = dict(doc)
        d["replies"] = [FaultReply(**r) for r in d.get("replies", [])]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def to_doc(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["replies"] = [dict(r.__dict__) for r in self.replies]
        d["sum"] = record_sum(d)
        return d


def record_sum(doc: dict[str, Any]) -> str:
    """Checksum of a stored report: a flipped bit that still parses (another ID, another date)
    would otherwise change a report silently."""
    body = json.dumps({k: v for k, v in doc.items() if k != "sum"}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def compose_description(
    category: str,
    phrases: list[str],
    text: str,
    suggestion: str,
    *,
    device_id: str,
    site: str,
    selftest: list[dict[str, Any]],
    log_lines: list[str],
    limit: int = MAX_DESCRIPTION,
) -> str:
    """The report text for the platform: head first, the log excerpt trimmed to fit ``limit``."""
    cat = CATEGORIES[category]
    problem = "；".join(phrases + ([text] if text else []))
    head = [
        f"【问题分类】{cat.name_zh}（{cat.routed_to_zh}）",
        f"【问题描述】{problem}",
        f"【解决建议】{suggestion or '无'}",
        f"【设备】{device_id}　【服务点】{site}　【软件版本】{__version__}",
    ]
    if selftest:
        parts = [
            f"{r.get('title_zh', r['name'])}：{'正常' if r['ok'] else '故障'}"
            + ("" if r["ok"] else f"（{r.get('detail_en', '')[:120]}）")
            for r in selftest
        ]
        head.append("【自检结果】" + "；".join(parts))
    body = "\n".join(head)
    if len(body) > limit:
        return body[: limit - 1] + "…"
    room = limit - len(body) - len("\n【近期日志】\n")
    kept: list[str] = []
    for line in reversed(log_lines):  # newest lines matter most
        line = line[:300]
        if room - (len(line) + 1) < 0:
            break
        kept.insert(0, line)
        room -= len(line) + 1
    if kept:
        body += "\n【近期日志】\n" + "\n".join(kept)
    return body


# ---------------------------------------------------------------------------
# The ledger


def _readable(doc: dict[str, Any]) -> bool:
    """A stored report the ledger can show and send (else dropped and reported at open)."""
    if "sum" in doc and doc["sum"] != record_sum(doc):  # files from before the checksum have none
        return False
    rec = FaultRecord.from_doc(doc)
    return isinstance(rec.local_id, str) and bool(rec.local_id)


class FaultLedger:
    """``FaultLedger(path, platform, device_id=..., site=...)``.

    ``report(...)`` stores then sends; ``send_pending()`` retries unsent ones;
    ``refresh_replies()`` fetches replies and deadlines. Platform calls run on
    the caller's thread (the screen calls from a worker thread).
    """

    def __init__(
        self, path: str | os.PathLike[str], platform: Any, *, device_id: str, site: str, fsync: bool = True
    ) -> None:
        self.platform = platform
        self.device_id = device_id
        self.site = site
        self._db = open_db(path, fsync=fsync, validators={"faults": _readable})
        self.recovery = self._db.recovery  # damaged file repaired at open (None when intact)
        self._table = self._db.table("faults")
        self._send_lock = threading.Lock()

    @classmethod
    def for_config(cls, cfg: Config, platform: Any, **kw: Any) -> FaultLedger:
        """The kiosk's ledger: in the storage folder, with the ``[site]`` it reports from (typed settings)."""
        s = cfg.settings
        site = f"{s.site.name}（{s.site.county}）"
        return cls(s.storage.dir / LEDGER_FILE, platform, device_id=s.site.device_id, site=site, **kw)

    # -- writing ------------------------------------------------------------
    def create(
        self,
        category: str,
        phrases: list[str],
        text: str = "",
        suggestion: str = "",
        *,
        reporter: str = "",
        selftest: list[Any] | None = None,
        log_lines: list[str] | None = None,
        names: Iterable[str] = (),
    ) -> FaultRecord:
        """Store a report durably (state "pending") and return it; nothing is sent yet."""
        if category not in CATEGORIES:
            raise FaultReportError(f"unknown fault category {category!r}")
        names = list(names)
        text = scrub_line(text.strip(), names)
        phrases = [scrub_line(p, names) for p in phrases]
        suggestion = scrub_line(suggestion.strip(), names)
        if not phrases and not text:
            raise FaultReportError("fault report without description")
        st = [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in (selftest or [])]
        for r in st:
            r.pop("facts", None)
            for k, v in r.items():  # check details quote device answers and exception texts
                if isinstance(v, str):
                    r[k] = scrub_line(v, names)
        excerpt = log_excerpt(log_lines or [], names)
        now = clock.now()
        rec = FaultRecord(
            local_id=f"F{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4].upper()}",
            idempotency_key=uuid.uuid4().hex,
            category=category,
            phrases=list(phrases),
            text=text,
            suggestion=suggestion,
            reporter=scrub_line(reporter, names),
            device_id=self.device_id,
            site=self.site,
            created_at=now.isoformat(timespec="seconds"),
            description=compose_description(
                category,
                list(phrases),
                text,
                suggestion,
                device_id=self.device_id,
                site=self.site,
                selftest=st,
                log_lines=excerpt,
            ),
            selftest=st,
        )
        self._table.insert(rec.to_doc())
        log.info("fault %s (%s) stored in the ledger", rec.local_id, category)
        return rec

    def send(self, local_id: str) -> FaultRecord:
        """Send one stored report (same idempotency key on every attempt). Raises PlatformError on failure."""
        with self._send_lock:
            rec = self.get(local_id)
            if rec is None:
                raise KeyError(local_id)
            if rec.state != "pending":
                return rec
            rec.attempts += 1
            try:
                ticket = self.platform.report_fault(
                    rec.category, rec.description, rec.idempotency_key, contact=rec.reporter[:100]
                )
            except Exception as exc:
                rec.last_error = f"{type(exc).__name__}: {exc}"
                self._save(rec)
                log.warning("fault %s not sent (attempt %d): %s", local_id, rec.attempts, rec.last_error)
                raise
            rec.state, rec.fault_no, rec.routed_to_zh = "sent", ticket.fault_no, ticket.routed_to_zh
            rec.reply_due = ticket.reply_due.isoformat() if ticket.reply_due else ""
            rec.last_error = ""
            self._save(rec)
            log.info(
                "fault %s sent as %s, routed to %s, reply due %s",
                local_id,
                rec.fault_no,
                CATEGORIES[rec.category].routed_to_zh,
                rec.reply_due or "-",
            )
            return rec

    def report(self, category: str, phrases: list[str], text: str = "", suggestion: str = "", **kw: Any) -> FaultRecord:
        """Store, then try to send. A send failure leaves it pending (returned, with ``last_error``)."""
        rec = self.create(category, phrases, text, suggestion, **kw)
        try:
            return self.send(rec.local_id)
        except KioskError:
            return self.get(rec.local_id) or rec

    def send_pending(self) -> int:
        """Retry every unsent report; returns how many were sent now."""
        sent = 0
        for rec in self.records():
            if rec.state == "pending":
                try:
                    self.send(rec.local_id)
                    sent += 1
                except KioskError:
                    break  # platform still down: keep the order, try later
        return sent

    def refresh_replies(self) -> int:
        """Fetch replies (and deadlines in them) for sent reports; returns how many are new."""
        replies = self.platform.fault_replies()
        by_no = {r.fault_no: r for r in self.records() if r.fault_no}
        new = 0
        with self._db.lock:
            for rp in replies:
                rec = by_no.get(rp.fault_no)
                if rec is None:
                    continue
                reply = FaultReply(rp.at, rp.by_zh, rp.text_zh)
                if reply not in rec.replies:
                    rec.replies.append(reply)
                    new += 1
                    # The automatic acknowledgement is not an answer to the problem.
                    if not reply.text_zh.startswith("已收到问题反映"):
                        rec.state = "replied"
                    self._save(rec)
        if new:
            log.info("%d new fault replies", new)
        return new

    def _save(self, rec: FaultRecord) -> None:
        self._table.update(rec.to_doc(), Query().local_id == rec.local_id)

    # -- reading -------------------------------------------------------------
    def get(self, local_id: str) -> FaultRecord | None:
        doc = self._table.get(Query().local_id == local_id)
        return FaultRecord.from_doc(doc) if doc else None

    def records(self) -> list[FaultRecord]:
        """Oldest first."""
        return [FaultRecord.from_doc(d) for d in self._table.all()]

    def close(self) -> None:
        self._db.close()
