"""Technician-mode login rules (pure Python, no Kivy, no network).

Staff account rules from seed 004 (信息系统用户账号管理办法):

* roles: 系统管理员 (system admin), 业务管理员 (business admin), 业务操作员
  (operator); one person must not hold both admin posts (严禁一人兼任两个岗位);
* least privilege (设置最小必须权限): each role gets only the technician-mode
  features its duty needs, see :data:`ROLE_PERMISSIONS`;
* real-name accounts (实名制): a real name and a valid ID number, never a
  shared account (禁止将帐号信息向任何第三方泄露);
* accounts unused for more than 3 months are locked (超期 3 个月未登录 ... 锁定).

The issue adds a ``technician`` role (the person who services the machine).

Logins: online the platform verifies the staff e-SSC QR code and returns a
:class:`StaffAccount`; offline, an account number plus PIN is checked against
salted scrypt/PBKDF2 hashes in a local file (:class:`OfflineCredentials`).
Every attempt goes through the account's :class:`LoginThrottle` in a
:class:`ThrottleBook` (5 failures in 10 minutes -> lockout with exponential
backoff, on monotonic time). Time is always passed in or injected, so every
rule is testable without sleeping.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import enum
import hashlib
import hmac
import itertools
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kiosk.core import clock
from kiosk.core.errors import KioskError
from kiosk.core.idnumber import is_valid_id, mask_id, mask_name
from kiosk.core.storage import write_text_atomic


# --- roles and permissions --------------------------------------------------
class Role(str, enum.Enum):  # noqa: UP042 - StrEnum would change str(role) in logs and audit lines
    SYSTEM_ADMIN = "system_admin"  # 系统管理员
    BUSINESS_ADMIN = "business_admin"  # 业务管理员
    OPERATOR = "operator"  # 业务操作员 (village / bank-branch clerk)
    TECHNICIAN = "technician"  # 运维技术员 (services the machine)


class Feature(str, enum.Enum):  # noqa: UP042 - as Role
    SELFTEST = "selftest"  # run the device self-test (prints a test page)
    VIEW_STATUS = "view_status"  # outbox queue, versions, config with secrets hidden
    VIEW_LOGS = "view_logs"  # recent log (already scrubbed of personal data)
    VIEW_RECEIPTS = "view_receipts"  # last receipts (masked personal data)
    EDIT_SETTINGS = "edit_settings"  # safe settings: idle timeout, volume, printer width
    RESTART_APP = "restart_app"
    FAULT_REPORT = "fault_report"  # 故障排除上下联动: file a problem report


ROLE_NAMES_ZH = {
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.BUSINESS_ADMIN: "业务管理员",
    Role.OPERATOR: "业务操作员",
    Role.TECHNICIAN: "运维技术员",
}

FEATURE_NAMES_ZH = {
    Feature.SELFTEST: "设备自检",
    Feature.VIEW_STATUS: "运行状态",
    Feature.VIEW_LOGS: "查看日志",
    Feature.VIEW_RECEIPTS: "最近凭条",
    Feature.EDIT_SETTINGS: "修改设置",
    Feature.RESTART_APP: "重启程序",
    Feature.FAULT_REPORT: "故障报告",
}

#: Least privilege per role. Why each set:
#: - operator (clerk at the kiosk, often on the phone with a technician): run
#:   the self-test, see status and receipts they helped with, restart a frozen
#:   app, report a fault; no logs, no settings.
#: - technician: everything technician mode offers.
#: - system admin: keeps systems running (self-test, logs, settings,
#:   restart) but, per seed 004, no business data: no receipts.
#: - business admin: manages roles and business guidance; may check status,
#:   run the self-test and report business-guidance faults; nothing else.
ROLE_PERMISSIONS: dict[Role, frozenset[Feature]] = {
    Role.OPERATOR: frozenset(
        {Feature.SELFTEST, Feature.VIEW_STATUS, Feature.VIEW_RECEIPTS, Feature.RESTART_APP, Feature.FAULT_REPORT}
    ),
    Role.TECHNICIAN: frozenset(Feature),
    Role.SYSTEM_ADMIN: frozenset(
        {Feature.SELFTEST, Feature.VIEW_STATUS, Feature.VIEW_LOGS, Feature.EDIT_SETTINGS, Feature.RESTART_APP}
    ),
    Role.BUSINESS_ADMIN: frozenset({Feature.SELFTEST, Feature.VIEW_STATUS, Feature.FAULT_REPORT}),
}

_ROLE_ALIASES = {
    **{r.value: r for r in Role},
    **{zh: r for r, zh in ROLE_NAMES_ZH.items()},
    "sysadmin": Role.SYSTEM_ADMIN,
    "系统管理": Role.SYSTEM_ADMIN,
    "bizadmin": Role.BUSINESS_ADMIN,
    "业务管理": Role.BUSINESS_ADMIN,
    "操作员": Role.OPERATOR,
    "业务经办": Role.OPERATOR,
    "技术员": Role.TECHNICIAN,
    "运维人员": Role.TECHNICIAN,
    "tech": Role.TECHNICIAN,
}


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Platform role names (English codes or Chinese titles) -> known roles.

    Unknown names are ignored: a role the kiosk does not know grants nothing.
    """
    out = set()
    for name in names:
        role = _ROLE_ALIASES.get(str(name).strip().lower()) or _ROLE_ALIASES.get(str(name).strip())
        if role is not None:
            out.add(role)
    return frozenset(out)


def permissions_for(roles: Iterable[Role]) -> frozenset[Feature]:
    perms: set[Feature] = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(Role(role), frozenset())
    return frozenset(perms)


# --- errors --------------------------------------------------------------------
class StaffAuthError(KioskError):
    """A refused login; ``reason`` is a stable code for the audit log."""

    message_zh = "登录失败，请重试或联系县级系统管理员。"
    reason = "refused"

    def __init__(self, log_message: str, message_zh: str | None = None) -> None:
        super().__init__(log_message, message_zh)


class BadCredentials(StaffAuthError):
    message_zh = "账号或密码不正确，请重新输入。"
    reason = "bad_credentials"


class TooManyAttempts(StaffAuthError):
    message_zh = "登录失败次数过多，请稍后再试。"
    reason = "throttled"

    def __init__(self, log_message: str, retry_after: float) -> None:
        minutes = max(1, int(-(-retry_after // 60)))
        super().__init__(log_message, f"登录失败次数过多，请 {minutes} 分钟后再试。")
        self.retry_after = retry_after


class AccountLocked(StaffAuthError):
    message_zh = "账号已被锁定，请联系县级系统管理员解锁。"
    reason = "locked"


class AccountDormant(AccountLocked):
    message_zh = "账号超过3个月未登录，已被锁定，请联系县级系统管理员解锁。"
    reason = "dormant"


class AccountNotRealName(StaffAuthError):
    message_zh = "该账号未实名登记，不能登录，请使用本人实名账号。"
    reason = "not_real_name"


class RoleConflict(StaffAuthError):
    message_zh = "账号同时拥有系统管理员和业务管理员岗位，不符合规定，请联系县级系统管理员。"
    reason = "role_conflict"


class NoPermission(StaffAuthError):
    message_zh = "您的账号没有此项权限。"
    reason = "no_permission"


# --- accounts and the dormancy rule ------------------------------------------------
DORMANT_AFTER_MONTHS = 3

#: Account names that betray a shared (non-personal) account.
_SHARED_NAMES = {
    "admin",
    "administrator",
    "root",
    "test",
    "guest",
    "user",
    "tech",
    "技术员",
    "管理员",
    "操作员",
    "公用",
    "公共",
    "共用",
    "测试",
    "值班",
    "工作人员",
}


@dataclass(frozen=True)
class StaffAccount:
    """A staff identity, from the platform (QR login) or the offline file.

    ``repr`` never shows the name or ID number in full.
    """

    account_id: str
    name: str
    id_number: str
    roles: frozenset[Role]
    last_login: _dt.date | None = None  # previous successful login anywhere
    locked: bool = False  # frozen by the county system admin
    source: str = "platform"  # "platform" or "offline"

    def __repr__(self) -> str:
        roles = ",".join(sorted(r.value for r in self.roles))
        return (
            f"StaffAccount({self.account_id!r}, {mask_name(self.name)!r}, "
            f"{mask_id(self.id_number)!r}, roles={roles}, source={self.source})"
        )

    __str__ = __repr__

    @property
    def audit_actor(self) -> str:
        """What the audit log records: account id and masked name only."""
        return f"staff:{self.account_id} {mask_name(self.name)}"


def add_months(day: _dt.date, months: int) -> _dt.date:
    """Calendar months later, clamped to the month's end (Nov 30 + 3 -> Feb 28/29)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return _dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_dormant(last_login: _dt.date | None, today: _dt.date) -> bool:
    """True when more than 3 months passed since the last login (seed 004 art. 11).

    An account that never logged in is judged by the platform, not here.
    """
    return last_login is not None and today > add_months(last_login, DORMANT_AFTER_MONTHS)


def looks_shared(name: str) -> bool:
    n = name.strip().lower()
    return n in _SHARED_NAMES or any(word in n for word in ("公用", "共用", "公共", "测试"))


def account_problem(account: StaffAccount, today: _dt.date) -> StaffAuthError | None:
    """The first rule the account breaks, or None if it may log in."""
    if account.locked:
        return AccountLocked(f"account {account.account_id} is locked by its administrator")
    if is_dormant(account.last_login, today):
        return AccountDormant(
            f"account {account.account_id} unused since {account.last_login} (> {DORMANT_AFTER_MONTHS} months)"
        )
    if not account.name.strip() or looks_shared(account.name) or not is_valid_id(account.id_number):
        return AccountNotRealName(
            f"account {account.account_id} is not a real-name personal account "
            f"(name {mask_name(account.name)!r}, id {mask_id(account.id_number)!r})"
        )
    if {Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN} <= account.roles:
        return RoleConflict(f"account {account.account_id} holds both admin posts")
    if not permissions_for(account.roles):
        return NoPermission(
            f"account {account.account_id} has no technician-mode role",
            "此账号没有设备维护权限，请联系县级业务管理员。",
        )
    return None


@dataclass(frozen=True)
class StaffSession:
    """A logged-in technician-mode session."""

    account: StaffAccount
    permissions: frozenset[Feature]
    started_at: float

    def can(self, feature: Feature) -> bool:
        return Feature(feature) in self.permissions

    def require(self, feature: Feature) -> None:
        if not self.can(feature):
            raise NoPermission(
                f"{self.account.audit_actor} lacks {Feature(feature).value}",
                f"您的账号没有“{FEATURE_NAMES_ZH[Feature(feature)]}”权限。",
            )


def start_session(account: StaffAccount, today: _dt.date, now: float) -> StaffSession:
    """Apply the account rules; raise the matching StaffAuthError or open a session."""
    problem = account_problem(account, today)
    if problem is not None:
        raise problem
    return StaffSession(account, permissions_for(account.roles), now)


# --- PIN hashing (offline fallback) ----------------------------------------------------
PIN_MIN, PIN_MAX = 6, 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PBKDF2_ITERATIONS = 600_000


def pin_problem(pin: str) -> str | None:
    """Why a PIN is unacceptable when it is set (English), or None."""
    if not pin.isdigit() or not (PIN_MIN <= len(pin) <= PIN_MAX):
        return f"PIN must be {PIN_MIN}-{PIN_MAX} digits"
    if len(set(pin)) == 1:
        return "PIN must not repeat one digit"
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {-1}):
        return "PIN must not be a run like 123456"
    return None


def hash_pin(pin: str, *, salt: bytes | None = None, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt_hex$hash_hex`` for storing in the offline file."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def hash_pin_pbkdf2(pin: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt_hex$hash_hex`` (for tools without scrypt)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, encoded: str) -> bool:
    """Constant-time check of ``pin`` against a stored hash; False on any malformed hash."""
    try:
        scheme, *parts = encoded.split("$")
        if scheme == "scrypt":
            n, r, p, salt, want = int(parts[0]), int(parts[1]), int(parts[2]), parts[3], parts[4]
            got = hashlib.scrypt(
                pin.encode(), salt=bytes.fromhex(salt), n=n, r=r, p=p, dklen=len(want) // 2, maxmem=64 * 1024 * 1024
            ).hex()
        elif scheme == "pbkdf2_sha256":
            iterations, salt, want = int(parts[0]), parts[1], parts[2]
            got = hashlib.pbkdf2_hmac(
                "sha256", pin.encode(), bytes.fromhex(salt), iterations, dklen=len(want) // 2
            ).hex()
        else:
            return False
    except (ValueError, IndexError):
        return False
    return hmac.compare_digest(got, want)


@cache
def _dummy_hash() -> str:
    # Checked when the account is unknown, so an unknown account costs the
    # same time as a wrong PIN and does not reveal which accounts exist.
    return hash_pin("000000", salt=b"\0" * 16)


# --- offline credential file ------------------------------------------------------------
@dataclass
class OfflineEntry:
    account_id: str
    name: str
    id_number: str
    roles: list[str]
    pin_hash: str
    one_time: bool = False  # consumed by its first successful use
    expires: str | None = None  # ISO date; None = until replaced
    last_login: str | None = None  # ISO date, updated at each offline login
    used: bool = False  # a consumed one-time code

    def account(self) -> StaffAccount:
        return StaffAccount(
            account_id=self.account_id,
            name=self.name,
            id_number=self.id_number,
            roles=parse_roles(self.roles),
            last_login=_dt.date.fromisoformat(self.last_login) if self.last_login else None,
            source="offline",
        )

    def __repr__(self) -> str:
        return f"OfflineEntry({self.account_id!r}, {mask_name(self.name)!r}, roles={self.roles})"


@dataclass
class OfflineCredentials:
    """Per-person PIN hashes for when the platform is down.

    File format (JSON, UTF-8)::

        {"version": 1, "entries": [{"account_id": "T0012", "name": "张三",
          "id_number": "...", "roles": ["technician"], "pin_hash": "scrypt$...",
          "one_time": false, "expires": "2027-06-30", "last_login": "2026-11-02"}]}

    Entries are personal (no shared accounts); the file belongs to root:kiosk
    mode 0640 or lives in the kiosk's state directory with mode 0600.
    """

    entries: list[OfflineEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> OfflineCredentials:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except ValueError as exc:
            raise StaffAuthError(
                f"offline credential file {path} is not valid JSON: {exc}", "离线登录数据损坏，请联系县级系统管理员。"
            ) from exc
        known = set(OfflineEntry.__dataclass_fields__)
        try:
            return cls([OfflineEntry(**{k: v for k, v in e.items() if k in known}) for e in raw.get("entries", [])])
        except TypeError as exc:
            raise StaffAuthError(
                f"offline credential file {path} has a bad entry: {exc}", "离线登录数据损坏，请联系县级系统管理员。"
            ) from exc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Atomic write: temp file, fsync, rename, fsync the directory."""
        path = Path(path)
        data = json.dumps({"version": 1, "entries": [e.__dict__ for e in self.entries]}, ensure_ascii=False, indent=1)
        write_text_atomic(path, data, mode=0o600)

    def add(
        self,
        account_id: str,
        name: str,
        id_number: str,
        roles: Iterable[str],
        pin: str,
        *,
        one_time: bool = False,
        expires: _dt.date | None = None,
        today: _dt.date | None = None,
    ) -> OfflineEntry:
        """Add or replace a person's entry; refuses weak PINs and shared accounts."""
        if (problem := pin_problem(pin)) is not None:
            raise StaffAuthError(f"refusing PIN for {account_id}: {problem}", "密码过于简单，请重新设置。")
        entry = OfflineEntry(
            account_id,
            name,
            id_number,
            sorted(r.value for r in parse_roles(roles)),
            hash_pin(pin),
            one_time,
            expires.isoformat() if expires else None,
            (today or clock.today()).isoformat(),
        )
        check = account_problem(entry.account(), today or clock.today())
        if check is not None:
            raise check
        self.entries = [e for e in self.entries if e.account_id != account_id] + [entry]
        return entry

    def verify(self, account_id: str, pin: str, today: _dt.date) -> StaffAccount:
        """The account when ``pin`` matches a usable entry, else BadCredentials.

        Marks a one-time entry used and updates ``last_login``: call
        :meth:`save` afterwards. Account rules (dormancy, roles) are applied
        by :func:`start_session`, on the account as it was *before* this login.
        """
        entry = next((e for e in self.entries if e.account_id == account_id.strip()), None)
        ok = verify_pin(pin, entry.pin_hash if entry else _dummy_hash())
        if entry is None or not ok:
            raise BadCredentials(f"offline login for {account_id!r}: wrong account or PIN")
        if entry.used:
            raise BadCredentials(
                f"offline login for {account_id!r}: one-time code already used",
                "此一次性登录码已使用过，请向县级系统管理员申请新码。",
            )
        if entry.expires and today > _dt.date.fromisoformat(entry.expires):
            raise BadCredentials(
                f"offline login for {account_id!r}: code expired {entry.expires}",
                "离线登录码已过期，请向县级系统管理员申请新码。",
            )
        account = entry.account()
        if entry.one_time:
            entry.used = True
        entry.last_login = today.isoformat()
        return account


# --- rate limiting ---------------------------------------------------------------
@dataclass
class LoginThrottle:
    """One account's failed-login limiter: ``max_failures`` within ``window``
    seconds lock its logins for ``base_lockout`` seconds, doubling with each
    further lockout (capped at ``max_lockout``). A success resets everything;
    so does a day without failures (``forget_after``).

    ``clock`` is monotonic (issue 12, fault 9): correcting the wall clock by a
    year must neither lock technicians out for a year nor lift a lockout.
    :meth:`to_dict` therefore stores *ages* and *time left*, never instants,
    and :meth:`restore` clamps every value, so a restart can neither reset
    the limit nor make it longer than ``max_lockout``.
    """

    max_failures: int = 5
    window: float = 600.0
    base_lockout: float = 300.0
    max_lockout: float = 3600.0
    forget_after: float = 24 * 3600.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    failures: list[float] = field(default_factory=list)
    lockouts: int = 0
    locked_until: float = 0.0
    last_failure: float | None = None

    def retry_after(self) -> float:
        """Seconds until a login may be tried; 0 when allowed now."""
        return max(0.0, self.locked_until - self.clock())

    def check(self) -> None:
        """Raise TooManyAttempts while locked out."""
        wait = self.retry_after()
        if wait > 0:
            raise TooManyAttempts(f"login locked out for another {wait:.0f} s after {self.lockouts} lockout(s)", wait)

    def record_failure(self) -> float:
        """Count a failure; returns the lockout now in force (0 if none)."""
        now = self.clock()
        if self.last_failure is not None and now - self.last_failure > self.forget_after:
            self.lockouts = 0
        self.last_failure = now
        self.failures = [*[t for t in self.failures if now - t < self.window][-self.max_failures :], now]
        if len(self.failures) >= self.max_failures:
            lockout = min(self.max_lockout, self.base_lockout * 2 ** min(self.lockouts, 30))
            self.lockouts += 1
            self.locked_until = now + lockout
            self.failures = []
            return float(lockout)
        return 0.0

    def record_success(self) -> None:
        self.failures = []
        self.lockouts = 0
        self.locked_until = 0.0
        self.last_failure = None

    def remaining_attempts(self) -> int:
        now = self.clock()
        recent = [t for t in self.failures if now - t < self.window]
        return max(0, self.max_failures - len(recent))

    def idle(self) -> bool:
        """Nothing worth keeping: no recent failure, no lockout, no backoff to remember."""
        now = self.clock()
        return (
            self.retry_after() == 0
            and not any(now - t < self.window for t in self.failures)
            and (self.lockouts == 0 or self.last_failure is None or now - self.last_failure > self.forget_after)
        )

    def to_dict(self) -> dict[str, Any]:
        """Relative state: ages of failures and seconds of lockout left."""
        now = self.clock()
        return {
            "failure_ages": [round(now - t, 3) for t in self.failures if now - t < self.window],
            "lockouts": self.lockouts,
            "locked_for": round(self.retry_after(), 3),
            "quiet_for": None if self.last_failure is None else round(now - self.last_failure, 3),
        }

    def restore(self, state: dict[str, Any], elapsed: float = 0.0) -> None:
        """Load :meth:`to_dict` state saved ``elapsed`` seconds ago (0 when that is unknown).

        Every number is clamped: a damaged or hostile file cannot lock for longer than
        ``max_lockout`` nor hold more than ``max_failures`` failures.
        """
        now = self.clock()
        elapsed = max(0.0, float(elapsed))

        def num(v: Any, hi: float) -> float:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
                raise ValueError(f"not a number: {v!r}")
            return min(max(0.0, float(v)), hi)

        ages = [num(a, self.window) + elapsed for a in state.get("failure_ages", [])][-self.max_failures :]
        self.failures = [now - a for a in ages if a < self.window]
        self.lockouts = int(num(state.get("lockouts", 0), 30))
        self.locked_until = now + max(0.0, num(state.get("locked_for", 0.0), self.max_lockout) - elapsed)
        quiet = state.get("quiet_for")
        self.last_failure = None if quiet is None else now - (num(quiet, self.forget_after + 1) + elapsed)


UNVERIFIED_QR = "qr:unverified"
OVERFLOW = "overflow"


@dataclass
class ThrottleBook:
    """A :class:`LoginThrottle` per account, so one person's wrong PINs lock that account only,
    not every technician (issue 12, fault 9).

    * Offline PIN logins count against the typed account number.
    * QR logins count against one shared ``qr:unverified`` bucket whose lockout never grows
      beyond ``base_lockout``: staff QR codes are signed by the platform and cannot be guessed,
      so this only keeps a prankster from flooding the platform, and locks nobody out for long.
    * At most ``max_accounts`` buckets are kept (the file stays small); idle ones are dropped
      first, then the one whose last failure is oldest, but never a locked one: when every
      bucket is locked, new account numbers share one ``overflow`` bucket, so typing many
      invented account numbers can neither evict a lockout nor grow the state.

    The file (``to_dict``) records the wall time it was saved; at restore the time passed is
    subtracted from each lockout only when it is plausible (0 to ``max_lockout``): after a
    clock jump the saved time left is kept as it was (at most ``max_lockout``).
    """

    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    wall: Callable[[], float] = field(default=time.time, repr=False)
    max_accounts: int = 64
    buckets: dict[str, LoginThrottle] = field(default_factory=dict)

    @staticmethod
    def key(account_id: str) -> str:
        account = "".join(ch for ch in str(account_id).strip().upper() if ch.isprintable())[:32]
        return f"pin:{account}" if account else UNVERIFIED_QR

    def _new(self, key: str) -> LoginThrottle:
        t = LoginThrottle(clock=self.clock)
        if key == UNVERIFIED_QR:
            t.max_lockout = t.base_lockout
        return t

    def peek(self, account_id: str) -> LoginThrottle:
        """The account's throttle as it stands (a fresh one when it has none); stores nothing."""
        key = self.key(account_id)
        return self.buckets.get(key) or self._new(key)

    def for_account(self, account_id: str) -> LoginThrottle:
        """The throttle a login attempt for ``account_id`` goes through (created if needed)."""
        key = self.key(account_id)
        if key in self.buckets:
            return self.buckets[key]
        if len(self.buckets) >= self.max_accounts:
            for k in [k for k, t in self.buckets.items() if t.idle()]:
                del self.buckets[k]
        if len(self.buckets) >= self.max_accounts:
            free = [
                (t.last_failure or 0.0, k)
                for k, t in self.buckets.items()
                if t.retry_after() == 0 and k not in (OVERFLOW, UNVERIFIED_QR)
            ]
            if not free:
                key = OVERFLOW
                return self.buckets.setdefault(OVERFLOW, self._new(OVERFLOW))
            del self.buckets[min(free)[1]]
        return self.buckets.setdefault(key, self._new(key))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 2,
            "saved_at": round(self.wall(), 3),
            "accounts": {k: t.to_dict() for k, t in self.buckets.items() if not t.idle()},
        }

    def restore(self, state: Any) -> list[str]:
        """Load a saved book; returns the keys it could not use (already logged by the caller)."""
        if not isinstance(state, dict) or state.get("version") != 2 or not isinstance(state.get("accounts"), dict):
            raise ValueError("not a version-2 throttle file")
        saved = state.get("saved_at")
        elapsed = 0.0
        if isinstance(saved, (int, float)) and not isinstance(saved, bool):
            gap = self.wall() - float(saved)
            elapsed = gap if 0 <= gap <= LoginThrottle.max_lockout else 0.0
        bad = []
        for key, item in list(state["accounts"].items())[: self.max_accounts]:
            if (
                not isinstance(key, str)
                or not (key.startswith("pin:") or key in (UNVERIFIED_QR, OVERFLOW))
                or len(key) > 40
                or not isinstance(item, dict)
            ):
                bad.append(str(key)[:40])
                continue
            t = self._new(key)
            try:
                t.restore(item, elapsed)
            except (TypeError, ValueError):
                bad.append(key)
                continue
            self.buckets[key] = t
        return bad


# --- one login attempt, end to end ------------------------------------------------
@dataclass(frozen=True)
class LoginResult:
    """What the app shows and audits for one attempt."""

    ok: bool
    session: StaffSession | None
    error: StaffAuthError | None
    method: str  # "qr" or "offline_pin"
    account_id: str

    @property
    def message_zh(self) -> str:
        return "登录成功。" if self.ok else (self.error.message_zh if self.error else "登录失败。")

    def audit_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``AuditLog.append("staff.login", **...)``."""
        actor = self.session.account.audit_actor if self.session else f"staff:{self.account_id or '?'}"
        return {
            "outcome": "ok" if self.ok else "denied",
            "actor": actor,
            "method": self.method,
            "reason": None if self.ok else (self.error.reason if self.error else "refused"),
            "permissions": sorted(f.value for f in self.session.permissions) if self.session else [],
        }


def login(
    throttle: LoginThrottle,
    authenticate: Callable[[], StaffAccount],
    *,
    method: str,
    account_id: str,
    today: _dt.date,
    now: float,
) -> LoginResult:
    """Run one attempt through the throttle and the account rules.

    ``authenticate`` does the method-specific check (platform QR verification
    or :meth:`OfflineCredentials.verify`) and raises StaffAuthError (or
    PlatformError, which propagates: the platform being down is not a failed
    attempt). Failed credentials *and* refused accounts count as failures.
    """
    try:
        throttle.check()
    except TooManyAttempts as exc:
        return LoginResult(False, None, exc, method, account_id)
    try:
        account = authenticate()
        session = start_session(account, today, now)
    except StaffAuthError as exc:
        throttle.record_failure()
        return LoginResult(False, None, exc, method, account_id)
    throttle.record_success()
    return LoginResult(True, session, None, method, account.account_id)
