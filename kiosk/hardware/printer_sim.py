"""A receipt-printer simulator on real transports (TCP and/or a pty).

It behaves like a thermal ESC/POS printer as far as the kiosk can tell: it
accepts job bytes on TCP (port 9100, or an ephemeral port) and on a pty
(what a serial printer looks like), answers the real-time status requests
``DLE EOT 1/2/4`` at once from a switchable state, and "prints" a job when
the cut arrives by storing the job's bytes (``job-0001.bin`` ...) in a
folder. In an error state (paper out, cover open) nothing prints: the job
in progress is spoiled (kept in ``spoiled`` for tests) and the rest of it,
up to its cut, is thrown away, as a real printer leaves a torn receipt.
``fail_after`` switches the state after N more bytes, to open the cover in
the middle of a job. ``DLE DC4 8`` (clear buffers) drops a pending job.
"""

from __future__ import annotations

import functools
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from kiosk.hardware.escpos_render import next_token

log = logging.getLogger("kiosk.hardware.printer_sim")

#: "silent" drops everything and never answers (a printer switched off
#: behind a live connection), to exercise the driver's timeouts.
STATES = ("ok", "near_end", "paper_out", "cover_open", "cutter_error", "paper_jam", "head_error", "silent")
#: States in which the printer stops (goes offline and reports an error cause).
ERROR_STATES = ("cutter_error", "paper_jam", "head_error")


def status_byte(state: str, n: int, family: str = "snbc_bk_t080") -> bytes:
    """The printer's answer to ``DLE EOT n`` in ``state`` (bits 1 and 4 are always set).

    ``family`` picks the error-cause bits of ``DLE EOT 3`` (kiosk.hardware.printer_profiles):
    SNBC kiosk printers report a paper jam in bit 2; Epson TM printers have no jam bit (a jam
    shows only as offline + error).
    """
    b = 0x12
    if n == 1:
        if state in ("paper_out", "cover_open") or state in ERROR_STATES:
            b |= 0x08                      # offline
    elif n == 2:
        if state == "cover_open":
            b |= 0x04                      # cover open
        if state == "paper_out":
            b |= 0x20                      # printing stopped by paper end
        if state in ERROR_STATES:
            b |= 0x40                      # error occurred
    elif n == 3:
        if state == "cutter_error":
            b |= 0x08                      # auto-cutter error
        if state == "paper_jam" and family == "snbc_bk_t080":
            b |= 0x04                      # paper jam at the anti-jam module (SNBC)
        if state == "head_error":
            b |= 0x40                      # head temperature/voltage, head lifted (auto-recoverable)
    elif n == 4:
        if state in ("near_end", "paper_out"):
            b |= 0x0C                      # roll near end
        if state == "paper_out":
            b |= 0x60                      # roll end
    else:
        return b""
    return bytes([b])


class PrinterSimulator:
    """``PrinterSimulator(out_dir=None, tcp_port=0, pty=False, state="ok")``.

    ``tcp_port=None`` disables TCP; 0 binds an ephemeral port (see
    ``tcp_port`` after ``start()``). ``pty=True`` opens a pty whose slave
    path (``pty_path``) a serial driver can open.
    """

    def __init__(
        self,
        out_dir: str | Path | None = None,
        tcp_port: int | None = 0,
        pty: bool = False,
        state: str = "ok",
        host: str = "127.0.0.1",
        family: str = "snbc_bk_t080",
    ) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        self.out_dir = Path(out_dir) if out_dir else None
        self.host = host
        self._want_tcp = tcp_port
        self._want_pty = pty
        self.family = family          # whose DLE EOT 3 bits it speaks (printer_profiles)
        self._state = state
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._buf = bytearray()       # undecoded tail of the stream
        self._job = bytearray()       # bytes of the job being printed
        self._discarding = False      # after an error, until the job's cut
        self._fault: tuple[int, str] | None = None
        self.jobs: list[bytes] = []
        self.spoiled: list[bytes] = []
        self.status_requests = 0
        self.tcp_port: int | None = None
        self.pty_path: str | None = None
        #: called as ``when_job(index, job_bytes)`` from a simulator thread
        self.when_job: Callable[[int, bytes], None] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._master: int | None = None
        self._slave: int | None = None
        self._started = False
        self._wake_r, self._wake_w = os.pipe()   # wakes the pty loop's select on close

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "PrinterSimulator":
        if self._started:
            return self
        self._started = True
        if self.out_dir:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        if self._want_tcp is not None:
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((self.host, self._want_tcp))
            srv.listen(4)
            srv.settimeout(0.2)
            self._server = srv
            self.tcp_port = srv.getsockname()[1]
            self._spawn(self._accept_loop, "printer-sim-tcp")
        if self._want_pty:
            master, slave = os.openpty()
            tty.setraw(slave)
            # keep our own slave fd open so the master never sees EIO when
            # the driver closes and reopens the port
            self._master, self._slave = master, slave
            self.pty_path = os.ttyname(slave)
            self._spawn(self._pty_loop, "printer-sim-pty")
        log.info("printer simulator: tcp=%s pty=%s state=%s out=%s",
                 self.tcp_port, self.pty_path, self._state, self.out_dir)
        return self

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)   # wakes accept() at once on Linux
            except OSError:
                pass
            self._server.close()
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        for t in self._threads:
            t.join(timeout=2)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __enter__(self) -> "PrinterSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # ------------------------------------------------------------ state
    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self.set_state(value)

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        with self._lock:
            if state != self._state:
                log.info("printer simulator state %s -> %s", self._state, state)
            self._state = state
            if not self._printing_allowed():
                self._spoil()

    def fail_after(self, nbytes: int, state: str = "cover_open") -> None:
        """Switch to ``state`` once ``nbytes`` more job bytes have arrived."""
        if state not in STATES:
            raise ValueError(f"bad state {state!r}")
        with self._lock:
            self._fault = (nbytes, state)

    def drop_connections(self) -> None:
        """Close every TCP client, as a printer does when power-cycled."""
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.jobs) >= count, timeout)

    def _printing_allowed(self) -> bool:
        return self._state in ("ok", "near_end")

    def _spoil(self) -> None:
        if self._job:
            self.spoiled.append(bytes(self._job))
            log.info("printer simulator: job spoiled after %d bytes (state %s)", len(self._job), self._state)
            self._save(f"spoiled-{len(self.spoiled):04d}.bin", bytes(self._job))
            self._discarding = True    # throw the rest of this job away, up to its cut
        self._job = bytearray()

    # ------------------------------------------------------------ engine
    def feed(self, data: bytes, reply: Callable[[bytes], None]) -> None:
        """Process bytes from a transport; ``reply`` sends bytes back."""
        with self._lock:
            if self._state == "silent":
                return
            self._buf += data
            pos = 0
            while True:
                step = next_token(self._buf, pos)
                if step is None:
                    break
                tok, pos = step
                self._consume(tok, reply)
            del self._buf[:pos]

    def _consume(self, tok, reply: Callable[[bytes], None]) -> None:
        if tok.kind == "status":
            self.status_requests += 1
            answer = status_byte(self._state, tok.arg, self.family)
            if answer:
                reply(answer)
            return
        if tok.kind == "clear":
            if self._job:
                log.info("printer simulator: buffer cleared, %d pending bytes dropped", len(self._job))
            self._job = bytearray()
            self._discarding = False
            return
        if tok.kind == "ignore" and tok.raw[:2] in (b"\x10\x05",):
            return  # other real-time requests
        if self._discarding or not self._printing_allowed():
            if tok.kind == "cut":
                self._discarding = False   # the next job starts fresh
            else:
                self._discarding = True
            return
        self._job += tok.raw
        if self._fault is not None:
            left, state = self._fault
            left -= len(tok.raw)
            if left <= 0:
                self._fault = None
                self.set_state(state)      # an error state spoils the job in progress
                if not self._printing_allowed():
                    return
            else:
                self._fault = (left, state)
        if tok.kind == "cut":
            job = bytes(self._job)
            self._job = bytearray()
            self.jobs.append(job)
            index = len(self.jobs)
            self._save(f"job-{index:04d}.bin", job)
            log.info("printer simulator: job %d printed, %d bytes", index, len(job))
            self._cond.notify_all()
            if self.when_job is not None:
                try:
                    self.when_job(index, job)
                except Exception:  # a callback bug must not kill the printer
                    log.exception("when_job callback failed")

    def _save(self, name: str, data: bytes) -> None:
        if not self.out_dir:
            return
        tmp = self.out_dir / (name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.out_dir / name)

    # ------------------------------------------------------------ transports
    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self._spawn(functools.partial(self._serve, conn), "printer-sim-conn")

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)

        def reply(b: bytes) -> None:
            try:
                conn.sendall(b)
            except OSError:
                pass

        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                self.feed(data, reply)
        finally:
            conn.close()
            if conn in self._conns:
                self._conns.remove(conn)

    def _pty_loop(self) -> None:
        master = self._master
        assert master is not None

        def reply(b: bytes) -> None:
            try:
                os.write(master, b)
            except OSError:
                pass

        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master, self._wake_r], [], [], 1.0)
            except (OSError, ValueError):
                return
            if master not in ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if data:
                self.feed(data, reply)
