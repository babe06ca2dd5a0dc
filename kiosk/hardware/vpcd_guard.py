"""Keep the virtual card reader on loopback (issue 12, fault 7).

vsmartcard-vpcd makes pcscd listen for virtual cards on every interface
(CHANNELID 35963 and 35964 by default) and has no option to bind to one
address: its "host:port" form turns vpcd into a client instead. Anyone on the
kiosk's LAN could then present a fake social-security card. Where the demo
uses vpcd, an nftables table drops every packet to those ports that does not
arrive on ``lo``. Production installs must not install vsmartcard-vpcd at all
(systemd/README.md); this guard is for demo and test machines.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

log = logging.getLogger("kiosk.sscard")

TABLE = "kiosk_vpcd"
_guarded: set[tuple[int, int]] = set()


def ruleset(first_port: int, last_port: int) -> str:
    """The nft script: one table, one input chain, loopback only to the vpcd ports."""
    return (f"table inet {TABLE} {{\n"
            "  chain input {\n"
            "    type filter hook input priority filter; policy accept;\n"
            f'    iifname != "lo" tcp dport {first_port}-{last_port} drop\n'
            "  }\n"
            "}\n")


def guard(first_port: int, last_port: int) -> bool:
    """Install the loopback-only rule for ``first_port..last_port`` (idempotent); False if it could not."""
    if (first_port, last_port) in _guarded:
        return True
    nft = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if nft is None:
        log.warning("vpcd ports %d-%d are reachable from the network: nft is missing (apt-get install nftables)",
                    first_port, last_port)
        return False
    # Replace the whole table in one transaction: no moment without the rule, no duplicate rules.
    script = f"table inet {TABLE}\ndelete table inet {TABLE}\n" + ruleset(first_port, last_port)
    try:
        proc = subprocess.run([nft, "-f", "-"], input=script, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("vpcd ports %d-%d are reachable from the network: nft failed: %s", first_port, last_port, exc)
        return False
    if proc.returncode != 0:
        log.warning("vpcd ports %d-%d are reachable from the network: nft said %s", first_port, last_port,
                    proc.stderr.strip()[-200:])
        return False
    _guarded.add((first_port, last_port))
    log.info("vpcd ports %d-%d accept connections from loopback only", first_port, last_port)
    return True
