"""The printer driver against the simulator on a real TCP socket and a real pty."""

import subprocess
import sys
import time

import pytest

from kiosk.core.errors import DeviceError
from kiosk.core.idnumber import mask_id
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.hardware.printer import (
    CoverOpen, PaperOut, PrinterError, PrinterOffline, ReceiptPrinter, UnknownJob, parse_status,
)
from kiosk.hardware.printer_sim import PrinterSimulator, status_byte
from kiosk.receipts import render_receipt
from kiosk.receipts.samples import SAMPLE_ID, sample_receipt


@pytest.fixture
def sim(tmp_path):
    s = PrinterSimulator(out_dir=tmp_path / "jobs", tcp_port=0, pty=True).start()
    yield s
    s.close()


@pytest.fixture(params=["tcp", "pty"])
def printer(request, sim):
    if request.param == "tcp":
        p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{sim.tcp_port}", timeout=1.0)
    else:
        p = ReceiptPrinter(driver="serial", port=sim.pty_path, baudrate=115200, timeout=1.0)
    yield p
    p.close()


@pytest.fixture
def receipt_job():
    return render_receipt(sample_receipt("acceptance"), paper_width=80)


@pytest.mark.parametrize("state, expect", [
    ("ok", dict(online=True, cover_open=False, paper_near_end=False, paper_out=False)),
    ("near_end", dict(online=True, cover_open=False, paper_near_end=True, paper_out=False)),
    ("paper_out", dict(online=False, cover_open=False, paper_near_end=True, paper_out=True)),
    ("cover_open", dict(online=False, cover_open=True, paper_near_end=False, paper_out=False)),
])
def test_status_over_the_wire(sim, printer, state, expect):
    sim.set_state(state)
    st = printer.status()
    assert st.known
    for k, v in expect.items():
        assert getattr(st, k) == v, (state, k)
    assert printer.last_status == st


def test_status_bytes_match_escpos_spec():
    assert status_byte("ok", 1) == b"\x12" and status_byte("ok", 4) == b"\x12"
    assert status_byte("paper_out", 4)[0] & 0x60 == 0x60
    assert status_byte("cover_open", 2)[0] & 0x04
    st = parse_status(0x12, 0x12, 0x1E)
    assert st.paper_near_end and not st.paper_out and st.ready


def test_receipt_printed_as_sent(sim, printer, receipt_job, tmp_path):
    result = printer.print_job(receipt_job, label="acceptance")
    assert result.printed and not result.duplicate and not result.near_end
    assert result.bytes_sent == len(receipt_job)
    assert sim.wait_for_jobs(1)
    assert sim.jobs == [receipt_job]
    stored = (tmp_path / "jobs" / "job-0001.bin").read_bytes()
    assert stored == receipt_job
    lines = decoded_lines(decode(stored))
    assert f"身份证号：{mask_id(SAMPLE_ID)}" in lines and lines[-1] == "[CUT]"
    assert SAMPLE_ID.encode() not in stored


def test_paper_out_before_printing(sim, printer, receipt_job):
    sim.set_state("paper_out")
    with pytest.raises(PaperOut) as ei:
        printer.print_job(receipt_job, key="app-1")
    err = ei.value
    assert isinstance(err, DeviceError)
    assert err.message_zh == "打印机缺纸，可在屏幕上查看回执，或到柜台领取。"
    assert err.job_key == "app-1"
    assert sim.jobs == [] and sim.spoiled == []
    # nothing was sent: only status requests reached the printer
    assert printer.session_jobs[-1].key == "app-1" and not printer.session_jobs[-1].printed


def test_cover_open_during_job_then_reprint_prints_once(sim, printer, receipt_job):
    sim.fail_after(len(receipt_job) // 2, "cover_open")
    with pytest.raises(CoverOpen) as ei:
        printer.print_job(receipt_job, key="app-2")
    assert ei.value.message_zh == "打印机纸仓盖未关好，可在屏幕上查看回执，或到柜台领取。"
    assert ei.value.job_key == "app-2"
    assert sim.jobs == [] and len(sim.spoiled) == 1      # a torn half receipt, not a receipt
    # the technician closes the cover and the resident taps "reprint"... twice
    sim.set_state("ok")
    first = printer.reprint()
    second = printer.reprint()
    assert first.printed and second.duplicate and not second.printed
    # and the flow retrying its own print call is also a no-op
    assert printer.print_job(receipt_job, key="app-2").duplicate
    assert sim.wait_for_jobs(1)
    time.sleep(0.1)
    assert sim.jobs == [receipt_job]


def test_reprint_after_paper_loaded(sim, printer, receipt_job):
    sim.set_state("paper_out")
    with pytest.raises(PaperOut):
        printer.print_job(receipt_job)
    sim.set_state("ok")                                  # paper loaded
    r = printer.reprint()
    assert r.printed
    assert printer.reprint().duplicate
    assert sim.wait_for_jobs(1) and sim.jobs == [receipt_job]
    assert printer.reprint(force=True).printed           # an extra copy on request
    assert sim.wait_for_jobs(2) and sim.jobs == [receipt_job, receipt_job]


def test_error_mid_job_clears_the_printer_buffer(sim, printer, receipt_job):
    # error hits after the whole job is in: the driver clears the buffer so
    # recovering the printer does not print the failed job behind the reprint
    sim.fail_after(len(receipt_job) - 2, "paper_out")
    with pytest.raises(PaperOut):
        printer.print_job(receipt_job)
    sim.set_state("ok")
    printer.reprint()
    assert sim.wait_for_jobs(1)
    time.sleep(0.1)
    assert sim.jobs == [receipt_job]


def test_near_end_prints_and_raises_a_technician_flag(sim, printer, receipt_job):
    sim.set_state("near_end")
    alerts = []
    printer.when_near_end = alerts.append
    r = printer.print_job(receipt_job)
    assert r.printed and r.near_end
    assert len(alerts) == 1 and alerts[0].paper_near_end
    assert sim.wait_for_jobs(1)


def test_silent_printer_is_offline_within_timeout(sim, receipt_job):
    p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{sim.tcp_port}", timeout=0.3)
    try:
        sim.set_state("silent")
        with pytest.raises(PrinterOffline) as ei:
            p.print_job(receipt_job)
        assert "打印机未连接或未开机" in ei.value.message_zh
        sim.set_state("ok")
        assert p.reprint().printed                     # reconnects by itself
        assert sim.wait_for_jobs(1)
    finally:
        p.close()


def test_nothing_listening_is_offline(receipt_job):
    from tests.platform_support import free_port

    port = free_port()
    p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(PrinterOffline):
        p.print_job(receipt_job)
    p.close()
    p.close()   # idempotent


def test_file_printer_cannot_read_status_but_prints(tmp_path, receipt_job):
    out = tmp_path / "lp0"
    p = ReceiptPrinter(driver="file", port=str(out))
    r = p.print_job(receipt_job)
    p.close()
    assert r.printed and not r.status_before.known
    assert out.read_bytes() == receipt_job


def test_session_keeps_last_jobs_and_forgets_them(sim, printer):
    from kiosk.hardware.escpos_commands import JobBuilder

    for i in range(7):
        printer.print_job(JobBuilder().line(f"第{i}张").cut().build(), label=f"r{i}")
    assert [j.label for j in printer.session_jobs] == ["r2", "r3", "r4", "r5", "r6"]
    printer.end_session()
    with pytest.raises(UnknownJob):
        printer.reprint()


def test_bad_config_is_a_config_error():
    from kiosk.core.errors import ConfigError

    with pytest.raises(ConfigError):
        ReceiptPrinter(driver="bluetooth", port="x")
    with pytest.raises(ConfigError):
        ReceiptPrinter(driver="network", port="")
    with pytest.raises(ConfigError):
        ReceiptPrinter(driver="network", port="h", timeout=0)


def test_cli_render(tmp_path, receipt_job):
    job = tmp_path / "job.bin"
    job.write_bytes(receipt_job)
    out = tmp_path / "r.png"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "receipt", "render", str(job), str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "办理事项：12 失业保险金申领" in lines
    assert "[QR] https://ggfw.rst.example.cn/track?no=SX20260212000123" in lines and lines[-1] == "[CUT]"
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_sim_printer_serves_status_and_stores_jobs(tmp_path, receipt_job):
    outdir = tmp_path / "jobs"
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "printer", "--tcp", "0", "--pty",
                             "--state", "near_end", "--out", str(outdir)],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        tcp = pty = None
        while tcp is None or pty is None:
            line = proc.stdout.readline()
            assert line, "simulator exited"
            if line.startswith("tcp "):
                tcp = line.split()[1]
            elif line.startswith("pty "):
                pty = line.split()[1]
        p = ReceiptPrinter(driver="sim", port=tcp, timeout=2)
        assert p.status().paper_near_end
        assert p.print_job(receipt_job).near_end
        p.close()
        s = ReceiptPrinter(driver="serial", port=pty, timeout=2)
        assert s.status().paper_near_end
        s.close()
        deadline = time.monotonic() + 5
        while not (outdir / "job-0001.bin").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (outdir / "job-0001.bin").read_bytes() == receipt_job
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_reconnects_after_printer_dropped_the_connection(sim, receipt_job, caplog):
    import logging

    from kiosk.hardware.escpos_commands import JobBuilder

    caplog.set_level(logging.INFO, logger="kiosk.hardware.printer")

    p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{sim.tcp_port}", timeout=1.0)
    try:
        p.print_job(JobBuilder().line("一").cut().build())
        sim.drop_connections()
        time.sleep(0.1)
        assert p.print_job(receipt_job).printed
        assert sim.wait_for_jobs(2) and sim.jobs[1] == receipt_job
        assert "reconnecting once" in caplog.text
    finally:
        p.close()


# --------------------------------------------------------------------------
# status profiles: the kiosk printer family's DLE EOT 3 bits (kiosk.hardware.printer_profiles)


@pytest.mark.parametrize("profile_name", ["snbc_bk_t080", "epson_tm"])
@pytest.mark.parametrize("state, error, tech_words", [
    ("cutter_error", "CutterError", "切刀故障"),
    ("head_error", "PrinterFault", "打印头"),
    ("paper_jam", "PaperJam", "卡纸"),
    ("cover_open", "CoverOpen", "纸仓盖打开"),
    ("paper_out", "PaperOut", "打印纸已用完"),
])
def test_profile_maps_status_to_clear_messages(tmp_path, receipt_job, profile_name, state, error, tech_words):
    sim = PrinterSimulator(out_dir=tmp_path / "jobs", pty=True, family=profile_name).start()
    p = ReceiptPrinter(driver="serial", port=sim.pty_path, baudrate=115200, timeout=1.0, status_profile=profile_name)
    try:
        sim.set_state(state)
        st = p.status()
        with pytest.raises(PrinterError) as exc:
            p.print_job(receipt_job, label="acceptance")
        assert sim.jobs == []                                   # nothing printed in an error state
        if state == "paper_jam" and profile_name == "epson_tm":
            # Epson TM has no jam bit: the printer is just offline with an error, and says so
            assert type(exc.value).__name__ == "PrinterOffline" and st.text_zh() == "打印机离线"
            return
        assert type(exc.value).__name__ == error
        assert exc.value.message_zh.startswith("打印机") and "回执" in exc.value.message_zh
        assert tech_words in st.text_zh()
        assert 3 in p.status_profile.requests and sim.status_requests >= 4   # DLE EOT 3 was asked
    finally:
        p.close()
        sim.close()


def test_snbc_paper_jam_is_in_the_family_words(tmp_path):
    sim = PrinterSimulator(out_dir=tmp_path / "jobs", tcp_port=0, state="paper_jam").start()
    p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{sim.tcp_port}", timeout=1.0, status_profile="snbc_bk_t080")
    try:
        st = p.status()
        assert st.paper_jam and not st.online and st.profile == "snbc_bk_t080"
        assert st.text_zh() == "防卡纸模块处卡纸，请打开纸仓清除卡纸后合上"
    finally:
        p.close()
        sim.close()


def test_generic_profile_does_not_ask_for_error_causes(sim):
    p = ReceiptPrinter(driver="network", port=f"127.0.0.1:{sim.tcp_port}", timeout=1.0)
    try:
        sim.set_state("near_end")
        st = p.status()
        assert st.paper_near_end and st.ready and st.text_zh() == "打印纸即将用完，请及时更换"
        assert p.status_profile.requests == (1, 2, 4)
    finally:
        p.close()


def test_unknown_status_profile_is_a_config_error():
    from kiosk.core.errors import ConfigError

    with pytest.raises(ConfigError):
        ReceiptPrinter(driver="network", port="127.0.0.1:9", status_profile="hp_laserjet")


def test_python_escpos_keeps_its_capabilities_in_one_cache_dir_not_a_new_temp_dir_per_start(tmp_path):
    """python-escpos pickled its capabilities into a fresh mkdtemp() on every import (issue 16:
    ~0.8 s of CPU during the kiosk's start, and a pickle left in a temp dir per start)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCPOS_")}
    env.update(TMPDIR=str(tmp_path / "tmp"), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    code = ("import sys; from kiosk.hardware.printer import ReceiptPrinter;"
            "ReceiptPrinter('file', sys.argv[1])._make_connection()")
    stamps = []
    for _start in range(2):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / "receipt.bin")], env=env, check=True)
        cached = list((tmp_path / "cache" / "kiosk-escpos").rglob("*.capabilities.pickle"))
        assert len(cached) == 1, cached
        stamps.append(cached[0].stat().st_mtime_ns)
    assert stamps[0] == stamps[1]  # the second start loaded the pickle instead of parsing again
    # (escpos still calls mkdtemp() on import, but leaves the directory empty)
    assert [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()] == []


def test_processes_starting_together_all_get_the_capabilities_while_the_cache_is_built(tmp_path):
    """python-escpos writes its pickle in place (open, ~0.8 s of parsing, dump): a kiosk starting
    meanwhile (a second kiosk, ``kiosk selftest``, a parallel test worker) loaded the empty file
    and failed with EOFError. Four real processes on an empty cache, started together, all print."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCPOS_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    code = ("import sys; from kiosk.hardware.printer import ReceiptPrinter; p = ReceiptPrinter('file', sys.argv[1]);"
            "assert p.print_job(b'\\x1b@ok\\n').printed")
    for run in range(2):  # an empty cache, then a filled one
        procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"lp{run}-{i}")], env=env,
                                  stderr=subprocess.PIPE, text=True) for i in range(4)]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, "\n".join(e[-800:] for e in errors if e)
        assert all((tmp_path / f"lp{run}-{i}").read_bytes() == b"\x1b@ok\n" for i in range(4))
    cache = tmp_path / "cache" / "kiosk-escpos"
    assert len(list(cache.rglob("*.capabilities.pickle"))) == 1
    assert not list(cache.rglob(".build-*"))  # the private build folders are gone
