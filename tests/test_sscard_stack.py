"""pcsc_stack helpers that need no running daemon."""

from __future__ import annotations

import pytest

from kiosk.hardware import pcsc_stack
from kiosk.hardware.sscard_errors import PcscStackError


def test_missing_vpcd_names_the_debian_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(pcsc_stack, "VPCD_DRIVER", tmp_path / "libifdvpcd.so")
    monkeypatch.setattr(pcsc_stack, "READER_CONF_DIR", tmp_path)
    with pytest.raises(PcscStackError) as info:
        pcsc_stack._check_installed()
    assert "pcscd vsmartcard-vpcd" in str(info.value)
    assert info.value.message_zh == "读卡服务未启动，请联系工作人员。"


def test_missing_pcscd_names_the_debian_packages(monkeypatch):
    monkeypatch.setattr(pcsc_stack.shutil, "which", lambda name: None)
    monkeypatch.setattr(pcsc_stack.os.path, "exists", lambda p: False)
    with pytest.raises(PcscStackError, match="apt-get install pcscd vsmartcard-vpcd"):
        pcsc_stack._check_installed()


def test_vpcd_ports_from_reader_conf(tmp_path):
    (tmp_path / "vpcd").write_text(
        'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x8C7B\n'
        "LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x8C7B\n")
    assert pcsc_stack.vpcd_base_port(tmp_path) == 35963
    assert pcsc_stack.vpcd_base_port(tmp_path / "missing") == 35963


def test_vpcd_slots_map_reader_names_to_ports():
    slots = pcsc_stack.vpcd_slots(["Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR39U 00 00"])
    base = pcsc_stack.vpcd_base_port()
    assert [(s.reader, s.port) for s in slots] == [
        ("Virtual PCD 00 00", base), ("Virtual PCD 00 01", base + 1)]
