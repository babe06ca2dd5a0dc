"""Hostile files given to the command line: ESC/POS jobs for `kiosk receipt render`
and answers files (and the photo they name) for `kiosk flow run --answers`.

Each runs the real `python -m kiosk` in a process with a 2 GB address-space
limit and a timeout: it must end with one clear line on stderr and a non-zero
exit, never a traceback, a MemoryError or a hang.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys

import pytest

from tests.platform_support import sample, sim  # noqa: F401 - the module's simulator
from tests.test_flow_cli import SECRET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_kiosk(args: list[str], tmp_path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, KIOSK__PLATFORM__DEVICE_SECRET=SECRET, KIOSK__STORAGE__DIR=str(tmp_path),
               KIOSK__PLATFORM__START_SIMULATOR="false")
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT, preexec_fn=_limit_memory)


def refused_cleanly(out: subprocess.CompletedProcess, words: str) -> None:
    assert "Traceback" not in out.stderr and "MemoryError" not in out.stderr, out.stderr[-1500:]
    assert out.returncode != 0, out.stdout[-500:]
    errors = [ln for ln in out.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and words in errors[0], out.stderr[-1500:]


# ---------------------------------------------------------------- ESC/POS jobs
def gsk(fn: int, body: bytes) -> bytes:
    b = bytes([49, fn]) + body
    return b"\x1d(k" + struct.pack("<H", len(b)) + b


def raster(wb: int, h: int) -> bytes:
    return b"\x1dv0\x00" + struct.pack("<HH", wb, h) + b"\xff" * (wb * h)


JOBS = {
    "zero-width-raster": (raster(0, 10), "empty"),
    "zero-height-raster": (raster(10, 0), "empty"),
    "tall-raster": (raster(1, 65535), "larger than a receipt"),
    "wide-raster": (raster(8000, 2), "larger than a receipt"),
    "rasters-metres-long": (raster(1, 30000) * 3, "longer than"),
    "feeds-without-end": (b"\x1bd\xff" * 100_000, "more than"),
    "qr-oversized": (gsk(80, b"0" + b"x" * 60_000) + gsk(81, b"0"), "cannot be drawn"),
    "qr-module-255": (gsk(67, b"\xff") + gsk(80, b"0" + b"x" * 100) + gsk(81, b"0"), "module size"),
    "qr-module-0": (gsk(67, b"\x00") + gsk(80, b"0hello") + gsk(81, b"0"), "module size"),
}


@pytest.mark.parametrize("name", list(JOBS))
def test_hostile_print_job_is_refused_in_one_line(tmp_path, name):
    job, words = JOBS[name]
    (tmp_path / "job.bin").write_bytes(job)
    out = run_kiosk(["receipt", "render", str(tmp_path / "job.bin"), str(tmp_path / "out.png")], tmp_path)
    refused_cleanly(out, words)


def test_huge_double_size_text_line_is_clipped_at_the_paper_edge(tmp_path):
    (tmp_path / "job.bin").write_bytes(b"\x1d!\xff" + b"A" * 200_000 + b"\n")
    out = run_kiosk(["receipt", "render", str(tmp_path / "job.bin"), str(tmp_path / "out.png")], tmp_path)
    assert out.returncode == 0, out.stderr[-1500:]
    from PIL import Image

    with Image.open(tmp_path / "out.png") as img:
        assert img.size[0] == 576 and img.size[1] < 1000


@pytest.fixture()
def good_job(tmp_path):
    path = tmp_path / "good.bin"
    out = run_kiosk(["receipt", "sample", str(path)], tmp_path)
    assert out.returncode == 0, out.stderr
    return path


@pytest.mark.parametrize("target", ["/nonexistent/out.png", "/dev/full", "DIR"])
def test_unwritable_output_is_one_line(tmp_path, good_job, target):
    target = str(tmp_path) if target == "DIR" else target
    refused_cleanly(run_kiosk(["receipt", "render", str(good_job), target], tmp_path), "cannot write")


def not_a_small_regular_file(kind: str, tmp_path) -> str:
    """A path to something that must not be read whole: a device, a FIFO, a directory, a 64 MiB file."""
    if kind == "FIFO":
        os.mkfifo(tmp_path / "fifo")
        return str(tmp_path / "fifo")
    if kind == "DIR":
        return str(tmp_path)
    if kind == "BIG":
        with open(tmp_path / "big.bin", "wb") as f:
            f.truncate(64 << 20)   # sparse: 64 MiB of nothing
        return str(tmp_path / "big.bin")
    if kind == "NUL":
        return "photo\x00.jpg"
    return kind


@pytest.mark.parametrize("source", ["/dev/zero", "FIFO", "DIR", "BIG"])
def test_job_that_is_not_a_regular_bounded_file_is_refused(tmp_path, source):
    source = not_a_small_regular_file(source, tmp_path)
    out = run_kiosk(["receipt", "render", source, str(tmp_path / "out.png")], tmp_path, timeout=30)
    refused_cleanly(out, "cannot read job file")


# ---------------------------------------------------------------- answers files and photos
@pytest.fixture(scope="module")
def cert_person(sim):
    people = sample(sim.url, 300)
    return next(p for p in people if 21 in p["qualifies"] and (26 in p["has_records_for"] or 36 in p["has_records_for"]))


def flow_run(sim, tmp_path, person, answers_path) -> subprocess.CompletedProcess:
    return run_kiosk(["flow", "run", "21", "--resident", person["id_number"], "--platform", sim.url,
                      "--outbox", str(tmp_path / "outbox.json"), "--answers", str(answers_path)], tmp_path, timeout=60)


def invalid_answers(out: subprocess.CompletedProcess, words: str) -> None:
    assert "Traceback" not in out.stderr and "MemoryError" not in out.stderr, out.stderr[-1500:]
    assert out.returncode == 2, out.stdout[-500:] + out.stderr[-1500:]
    last = json.loads(out.stdout.splitlines()[-1])
    assert last["error"] == "invalid_answers" and last["message_zh"].endswith("。")
    assert words in last["detail"], last


@pytest.mark.parametrize("photo", ["/dev/zero", "FIFO", "DIR", "BIG", "NUL"])
def test_photo_that_is_not_a_regular_bounded_file_is_refused(sim, tmp_path, cert_person, photo):
    photo = not_a_small_regular_file(photo, tmp_path)
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"phone": "13912345678", "photo": photo}), encoding="utf-8")
    invalid_answers(flow_run(sim, tmp_path, cert_person, path), "photo file")


@pytest.mark.parametrize("kind", ["/dev/zero", "deep-json", "deep-toml", "BIG", "not-utf8"])
def test_hostile_answers_file_is_refused(sim, tmp_path, cert_person, kind):
    if kind == "/dev/zero":
        path = kind
    else:
        path = tmp_path / ("answers.toml" if kind == "deep-toml" else "answers.json")
        if kind == "deep-json":
            path.write_text("[" * 100_000 + "]" * 100_000)
        elif kind == "deep-toml":
            path.write_text("a = " + "[" * 100_000 + "]" * 100_000)
        elif kind == "BIG":
            path.write_text(json.dumps({"phone": "13912345678", "pad": "x" * (1 << 20)}))
        else:
            path.write_bytes(b'{"phone": "\xff\xfe"}')
    invalid_answers(flow_run(sim, tmp_path, cert_person, path), "answers file")
