"""The PC/SC stack the social-security card needs: pcscd plus the vpcd
virtual reader driver (Debian packages ``pcscd`` and ``vsmartcard-vpcd``).

:func:`ensure_pcscd` starts pcscd if it is not running and waits until its
readers are listed. Several processes may call it at once: a file lock lets
exactly one of them start the daemon. vpcd's readers ("Virtual PCD 00 00",
"... 00 01") each listen on a TCP port: CHANNELID of /etc/reader.conf.d/vpcd
(0x8C7B = 35963) plus the slot number.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from kiosk.hardware import vpcd_guard
from kiosk.hardware.sscard_errors import PcscStackError

log = logging.getLogger("kiosk.sscard")

PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
READER_CONF_DIR = Path("/etc/reader.conf.d")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VPCD_READER_PREFIX = "Virtual PCD"
VPCD_DEFAULT_PORT = 0x8C7B  # 35963, vsmartcard's default CHANNELID
VPCD_SLOTS = 2               # vpcd's default number of slots per reader entry
LOCK_DIR = Path(tempfile.gettempdir())
_INSTALL_HINT = ("install the Debian packages: apt-get install pcscd vsmartcard-vpcd "
                 "(or run scripts/setup.sh)")


@dataclass(frozen=True)
class VpcdSlot:
    reader: str  # PC/SC reader name, e.g. "Virtual PCD 00 00"
    port: int    # TCP port the virtual card connects to


def list_readers() -> list[str] | None:
    """Reader names from a fresh PC/SC context; None when pcscd does not answer."""
    from smartcard import scard

    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        if hresult == scard.SCARD_S_SUCCESS:
            return list(readers)
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        return None
    finally:
        scard.SCardReleaseContext(ctx)


def vpcd_base_port(conf_dir: Path = READER_CONF_DIR) -> int:
    """CHANNELID of the vpcd entry in reader.conf.d (the port of slot 0)."""
    try:
        for path in sorted(conf_dir.iterdir()):
            text = path.read_text(errors="replace")
            if "libifdvpcd" not in text:
                continue
            m = re.search(r"^\s*CHANNELID\s+(0x[0-9a-fA-F]+|\d+)", text, re.M)
            if m:
                return int(m.group(1), 0)
    except OSError:
        pass
    return VPCD_DEFAULT_PORT


def vpcd_slots(readers: list[str] | None = None) -> list[VpcdSlot]:
    """The vpcd readers pcscd lists, each with the TCP port of its slot."""
    if readers is None:
        readers = list_readers() or []
    base = vpcd_base_port()
    slots = []
    for name in readers:
        if not name.startswith(VPCD_READER_PREFIX):
            continue
        m = re.search(r"(\d+)\s*$", name)
        slot = int(m.group(1), 16) if m else 0
        slots.append(VpcdSlot(name, base + slot))
    return slots


def reader_for_port(port: int, readers: list[str] | None = None) -> str | None:
    for s in vpcd_slots(readers):
        if s.port == port:
            return s.reader
    return None


def pcscd_pid() -> int | None:
    """PID of the running pcscd according to its pid file, or None."""
    try:
        # pcscd writes "PID\n\0".
        pid = int(PCSCD_PID_FILE.read_bytes().strip(b"\0 \n\t"))
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


@contextmanager
def _file_lock(name: str, timeout: float) -> Iterator[None]:
    path = LOCK_DIR / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                if time.monotonic() > deadline:
                    raise PcscStackError(f"timed out waiting for lock {path}") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _check_installed() -> str:
    exe = shutil.which("pcscd") or ("/usr/sbin/pcscd" if os.path.exists("/usr/sbin/pcscd") else None)
    if exe is None:
        raise PcscStackError(f"pcscd is not installed; {_INSTALL_HINT}")
    if not VPCD_DRIVER.exists() and not any(
            "libifdvpcd" in p.read_text(errors="replace")
            for p in READER_CONF_DIR.glob("*") if p.is_file()):
        raise PcscStackError(f"the vpcd reader driver is not installed; {_INSTALL_HINT}")
    try:
        import smartcard  # noqa: F401
    except ImportError:
        raise PcscStackError("the Python package pyscard is missing (pip install pyscard)") from None
    return exe


def _has_vpcd(readers: list[str] | None) -> bool:
    return any(r.startswith(VPCD_READER_PREFIX) for r in readers or ())


def _guard_vpcd(readers: list[str]) -> None:
    """Where vpcd's virtual readers exist, let only loopback reach their ports (fault 7)."""
    if _has_vpcd(readers):
        base = vpcd_base_port()
        vpcd_guard.guard(base, base + VPCD_SLOTS - 1)


def ensure_pcscd(timeout: float = 10.0, require_vpcd: bool = True) -> list[str]:
    """Make sure pcscd runs and lists its readers; return the reader names.

    Starts ``pcscd`` (it daemonizes itself) when nothing answers. Idempotent
    and safe to call from several processes at once. Raises
    :class:`PcscStackError` naming the Debian packages when they are missing,
    or when the readers do not appear within ``timeout`` seconds.
    """
    readers = list_readers()
    if readers is not None and (_has_vpcd(readers) or (readers and not require_vpcd)):
        _guard_vpcd(readers)
        return readers
    exe = _check_installed()
    deadline = time.monotonic() + timeout
    with _file_lock("kiosk-pcscd.lock", timeout):
        readers = list_readers()
        if readers is None and pcscd_pid() is None:
            log.info("starting pcscd")
            try:
                proc = subprocess.run([exe], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, timeout=timeout, start_new_session=True)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise PcscStackError(f"could not start pcscd: {exc}") from None
            if proc.returncode != 0:
                detail = proc.stderr.decode(errors="replace").strip()[-300:]
                raise PcscStackError(
                    f"pcscd exited with {proc.returncode} (needs root or the pcscd service: "
                    f"systemctl start pcscd.socket): {detail}")
        while True:
            readers = list_readers()
            if readers is not None and (_has_vpcd(readers) or (readers and not require_vpcd)):
                log.info("pcscd ready with readers %s", readers)
                _guard_vpcd(readers)
                return readers
            if time.monotonic() > deadline:
                if readers is None:
                    raise PcscStackError(f"pcscd did not answer within {timeout:.0f} s; {_INSTALL_HINT}")
                raise PcscStackError(
                    f"pcscd runs but lists no vpcd reader ({readers}); is "
                    f"{READER_CONF_DIR}/vpcd present? {_INSTALL_HINT}")
            time.sleep(0.05)


def stop_pcscd(timeout: float = 10.0) -> bool:
    """Stop the running pcscd (by the pid in its pid file); for tests and benches.

    Returns True if a daemon was stopped. Every PC/SC client loses its
    context; the kiosk's reader supervision must recover.
    """
    with _file_lock("kiosk-pcscd.lock", timeout):
        pid = pcscd_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
        return True


def try_lock_port(port: int) -> int | None:
    """A held lock file descriptor for vpcd ``port``, or None if another card holds it.

    Virtual cards of different processes (tests, the running kiosk) must not
    share a slot: vpcd serves one card per port and silently queues the rest.
    Closing the descriptor releases the slot.
    """
    fd = os.open(LOCK_DIR / f"kiosk-vpcd-{port}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def wait_card_state(reader: str, present: bool, timeout: float = 5.0) -> bool:
    """Wait until pcscd reports a card in ``reader`` (or none); False on timeout.

    pcscd polls vpcd readers about every 400 ms, so a card that was just
    removed can still look present for a moment (tests, benches).
    """
    from smartcard import scard

    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    try:
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            hresult, states = scard.SCardGetStatusChange(ctx, int(min(remaining, 0.5) * 1000), [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                return False
            event = states[0][1]
            if bool(event & scard.SCARD_STATE_PRESENT) == present:
                return True
            state = event & ~scard.SCARD_STATE_CHANGED
    finally:
        scard.SCardReleaseContext(ctx)
