"""The provincial platform as the kiosk sees it (see docs/platform.md).

* ``adapter``: the ``Platform`` interface, its records and typed errors;
* ``http_client.HttpPlatform``: the implementation for the HTTP contract;
* ``outbox.Outbox``: durable, exactly-once submissions;
* ``simulator``: the contract served with synthetic data, started through
  ``simulator.launcher`` (the demo launcher; production code never imports
  the simulator otherwise).

The app builds its client and outbox in ``kiosk.backend.Backend``.
"""
