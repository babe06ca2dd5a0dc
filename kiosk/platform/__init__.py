"""The provincial platform as the kiosk sees it (see docs/platform.md).

* ``adapter``: the ``Platform`` interface, its records and typed errors;
* ``http_client.HttpPlatform``: the implementation for the HTTP contract;
* ``outbox.Outbox``: durable, exactly-once submissions;
* ``launcher``: start the simulator on embedded defaults;
* ``simulator``: the contract served with synthetic data.
"""

from __future__ import annotations


def connect(url: str, device_id: str, device_secret: str, connect_timeout: float = 3.0, read_timeout: float = 8.0,
            *, start_simulator: bool = True, simulator_seed: int = 42):
    """``(HttpPlatform, SimulatorHandle | None)`` for the configured platform.

    With ``start_simulator`` and a silent loopback ``url`` (the shipped default),
    the simulator is started there first; call ``handle.stop()`` on exit.
    """
    from kiosk.platform.http_client import HttpPlatform
    from kiosk.platform.simulator.launcher import ensure_simulator

    handle = ensure_simulator(url, simulator_seed, device_secret=device_secret) if start_simulator else None
    return HttpPlatform(url, device_id, device_secret, connect_timeout, read_timeout), handle
