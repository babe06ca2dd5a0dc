"""Fault 7: the demo's virtual card reader must not be reachable from the network.

vpcd makes pcscd listen on every interface; a host on the kiosk's LAN is
played by a network namespace joined to this one by a veth pair, and must not
be able to reach the vpcd port (it could present a fake social-security card).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from kiosk.hardware import pcsc_stack

NS = f"kvpcd{os.getpid() % 100000}"
HOST_IF, NS_IF = f"kvh{os.getpid() % 100000}", f"kvn{os.getpid() % 100000}"
HOST_IP, NS_IP = "10.231.77.1", "10.231.77.2"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@pytest.fixture
def lan_host():
    """A second host on a /30 link to this machine, as a neighbour on the village LAN would be."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed")
    if _ip("netns", "add", NS, check=False).returncode != 0:
        pytest.skip("network namespaces are not permitted here")
    try:
        _ip("link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        _ip("link", "set", NS_IF, "netns", NS)
        _ip("addr", "add", f"{HOST_IP}/30", "dev", HOST_IF)
        _ip("link", "set", HOST_IF, "up")
        _ip("-n", NS, "addr", "add", f"{NS_IP}/30", "dev", NS_IF)
        _ip("-n", NS, "link", "set", NS_IF, "up")
        _ip("-n", NS, "link", "set", "lo", "up")
        yield NS
    finally:
        _ip("link", "del", HOST_IF, check=False)
        _ip("netns", "del", NS, check=False)


def _listening_on_all_interfaces(port: int) -> bool:
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(name, encoding="ascii").read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            local, state = ln.split()[1], ln.split()[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port and set(addr) == {"0"}:
                return True
    return False


def _connect_from(ns: str, port: int) -> bool:
    code = (f"import socket\ntry:\n    socket.create_connection(('{HOST_IP}', {port}), timeout=2).close()\n"
            "    print('connected')\nexcept OSError as e:\n    print('refused', e)")
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30).stdout
    return out.startswith("connected")


def test_vpcd_port_is_reachable_from_loopback_only(lan_host):
    pcsc_stack.ensure_pcscd()
    port = pcsc_stack.vpcd_base_port()
    assert _listening_on_all_interfaces(port), "vpcd no longer listens on every interface: revisit this guard"
    # The neighbour can reach this machine at all (a port nobody guards answers with a refusal, not silence) ...
    probe = subprocess.run(["ip", "netns", "exec", lan_host, sys.executable, "-c",
                            f"import socket\ns=socket.socket()\ns.settimeout(2)\nprint(s.connect_ex(('{HOST_IP}', 9)))"],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    assert probe == "111", f"the test network does not work (connect_ex gave {probe!r})"
    # ... but not the virtual card reader's ports.
    for p in (port, port + 1):
        assert not _connect_from(lan_host, p), f"vpcd port {p} accepted a connection from the LAN"
