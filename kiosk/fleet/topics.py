"""The topic scheme ``kiosk/v1/<county>/<device_id>/<leaf>`` (docs/fleet.md).

Everything a kiosk publishes or receives sits under its own prefix, so a broker
ACL can let a kiosk write only below ``kiosk/v1/+/<its id>/``. ``v1`` is the
scheme version: a change of payload meaning gets a new version, both can run
side by side on one broker during a migration.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "kiosk"
VERSION = "v1"
SCHEMA = 1  # "v" field in every payload

STATE = "state"
HEALTH = "health"
EVENT = "event"
CMD = "cmd"
CONFIG_DESIRED = "config/desired"
CONFIG_REPORTED = "config/reported"

_FORBIDDEN = set("+#/\0")


def check_segment(name: str, what: str) -> str:
    """A county or device id must be one non-empty topic level without wildcards."""
    if not name or any(ch in _FORBIDDEN for ch in name):
        raise ValueError(f"{what} {name!r} cannot be an MQTT topic level (empty, or contains + # / NUL)")
    return name


def prefix(county: str, device_id: str) -> str:
    return f"{ROOT}/{VERSION}/{check_segment(county, 'county')}/{check_segment(device_id, 'device id')}"


def topic(county: str, device_id: str, leaf: str) -> str:
    return f"{prefix(county, device_id)}/{leaf}"


def cmd(county: str, device_id: str, cmd_id: str) -> str:
    return topic(county, device_id, f"{CMD}/{check_segment(cmd_id, 'command id')}")


def ack(county: str, device_id: str, cmd_id: str) -> str:
    return cmd(county, device_id, cmd_id) + "/ack"


def fleet_filter(leaf: str, county: str | None = None) -> str:
    """Subscription for one leaf of every kiosk (of one county when given)."""
    return f"{ROOT}/{VERSION}/{check_segment(county, 'county') if county else '+'}/+/{leaf}"


@dataclass(frozen=True)
class Parsed:
    county: str
    device_id: str
    leaf: str  # "state", "health", "cmd/<id>", "cmd/<id>/ack", "config/desired", ...


def parse(name: str) -> Parsed | None:
    """Split a topic of this scheme; None for anything else."""
    parts = name.split("/")
    if len(parts) < 5 or parts[0] != ROOT or parts[1] != VERSION:
        return None
    return Parsed(parts[2], parts[3], "/".join(parts[4:]))
