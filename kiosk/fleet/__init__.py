"""Fleet client: the kiosk as an MQTT client of a county/province broker.

Layer: beside the device hub and the backend (see docs/fleet.md). Modules:
``topics`` (the versioned topic scheme), ``signing`` (Ed25519 command
signatures), ``eventqueue`` (durable outgoing queue), ``guard`` (command
checks: signature, expiry, replay), ``client`` (one connection's protocol),
``loop`` (a selector loop driving one or thousands of clients), ``agent``
(the kiosk's wiring: health, commands, config), ``broker`` (a Mosquitto on
loopback for the demo, tests and benchmarks), ``status``/``operator``/
``simulate`` (the technician's tools).
"""
