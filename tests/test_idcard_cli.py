"""``kiosk decode idcard`` and ``kiosk sim idcard`` as a technician runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.hardware import idcard_protocol as p
from kiosk.hardware.idcard_reader import IdCardReader
from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS
from kiosk.hardware.idcard_text import encode_text

ROOT = Path(__file__).resolve().parent.parent


def kiosk(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=60)


def read_frame(index: int) -> bytes:
    rec = SYNTHETIC_RESIDENTS[index]
    return p.response_frame(p.SW_OK, p.encode_read_data(encode_text(rec), rec.photo))


def test_decode_binary_frame_masks_the_id(tmp_path):
    f = tmp_path / "cap.bin"
    f.write_bytes(read_frame(3))
    out = kiosk("decode", "idcard", str(f))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["id_number"] == "522***********003X"
    assert data["name"] == "杨光明" and data["nation"] == "苗" and data["gender"] == "男"
    assert data["birth_date"] == "1979-11-23" and data["photo_bytes"] == 1024
    assert SYNTHETIC_RESIDENTS[3].id_number.encode() not in out.stdout


def test_decode_hex_text_unmasked_long_term(tmp_path):
    f = tmp_path / "cap.txt"
    hexed = read_frame(0).hex(" ").upper()
    f.write_text("\n".join(hexed[i:i + 48] for i in range(0, len(hexed), 48)) + "\n")
    out = kiosk("decode", "idcard", str(f), "--unmasked")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["id_number"] == SYNTHETIC_RESIDENTS[0].id_number
    assert data["valid_until"] == "长期"


def test_decode_capture_with_command_and_noise(tmp_path):
    f = tmp_path / "traffic.bin"
    f.write_bytes(p.command_frame(p.CMD_READ_TEXT_PHOTO) + b"\x00\xff" + read_frame(4))
    data = json.loads(kiosk("decode", "idcard", str(f)).stdout)
    assert data["document"] == "foreign_permanent" and data["nationality"] == "USA"


@pytest.mark.parametrize("content, kind, words", [
    (read_frame(1)[:-1] + b"\x00", "malformed frame", "checksum"),
    (read_frame(1)[:700], "malformed frame", "only 700 present"),
    (b"hello, this is not a frame", "malformed frame", "no frame"),
    (b"AA AA AA 96 6", "malformed frame", "odd number"),
    (p.response_frame(p.SW_READ_FAILED), "no card record", "00 00 41 (read card failed)"),
    (p.response_frame(p.SW_OK, bytes(10)), "no card record", "text block length 0, expected 256"),
])
def test_decode_malformed_exits_1_with_a_clear_message(tmp_path, content, kind, words):
    f = tmp_path / "bad.bin"
    f.write_bytes(content)
    out = kiosk("decode", "idcard", str(f))
    assert out.returncode == 1
    assert out.stdout == b""
    err = out.stderr.decode()
    assert kind in err and words in err and "Traceback" not in err


def test_decode_missing_file(tmp_path):
    out = kiosk("decode", "idcard", str(tmp_path / "nope.bin"))
    assert out.returncode == 1 and b"cannot read" in out.stderr


def test_sim_command_serves_a_driver_and_takes_stdin_commands():
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "idcard", "--resident", "1"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert os.path.exists(port)
        reader = IdCardReader(port, timeout=1.0)
        try:
            assert reader.read_card().name == "李秀英"
            proc.stdin.write("insert 4\n")
            proc.stdin.flush()
            while "ok: placed" not in proc.stdout.readline():
                pass
            assert reader.read_card().english_name == "SMITH JOHN WILLIAM"
            proc.stdin.write("remove\n")
            proc.stdin.flush()
            while "ok: removed" not in proc.stdout.readline():
                pass
            with pytest.raises(p.NoCardError):
                reader.read_card()
        finally:
            reader.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert not os.path.exists(port)       # the pty link is cleaned up
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- fuzz the whole decode pipeline
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kiosk.commands.idcard import decode_capture  # noqa: E402
from kiosk.core.errors import KioskError  # noqa: E402


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SYNTHETIC_RESIDENTS))), st.data())
def test_fuzz_decode_pipeline_raises_only_typed_errors(index, data):
    raw = bytearray(read_frame(index))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "fixsum"]))
        if op == "flip":
            raw[pos] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del raw[pos:]
            if not raw:
                raw = bytearray(b"\x00")
        elif op == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif raw.startswith(p.PREAMBLE) and len(raw) > 8:
            # recompute the checksum so mutations reach the text parser
            raw[-1] = p.checksum(bytes(raw[5:-1]))
    try:
        rec = decode_capture(bytes(raw))
    except KioskError:
        return
    assert rec.card_type in ("resident_id", "foreign_permanent", "foreign_permanent_2023", "hmt_permit")


def _tgkill(pid: int, tid: int, sig: int) -> None:
    """Send ``sig`` to one thread of another process (Linux tgkill; Python has no wrapper)."""
    import ctypes

    number = {"x86_64": 234, "aarch64": 131}.get(os.uname().machine)
    if number is None:
        pytest.skip(f"tgkill number unknown on {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(number, pid, tid, sig) == 0, os.strerror(ctypes.get_errno())


def test_ctrl_c_taken_by_a_simulator_thread_still_ends_the_command():
    # The kernel may hand a process's SIGINT to any thread; the command must not sit in read() forever.
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "idcard", "--resident", "1"],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert os.path.exists(proc.stdout.readline().strip())
        others = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task") if int(t) != proc.pid]
        assert others, "the simulator serves on a thread of its own"
        _tgkill(proc.pid, others[0], signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigint_ends_the_command_even_when_started_as_a_background_job():
    # A non-interactive shell starts `cmd &` with SIGINT ignored (so did CI once); kill -INT must still work.
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "idcard"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert os.path.exists(proc.stdout.readline().strip())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
