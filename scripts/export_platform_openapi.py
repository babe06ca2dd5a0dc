#!/usr/bin/env python3
"""Regenerate docs/platform-openapi.json, the platform contract, from the simulator.

Run after changing the /v1 API, review the diff, bump API_VERSION in
kiosk/platform/simulator/models.py for any incompatible change, and commit both.
tests/test_platform_contract.py fails while the committed file is stale.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.commands.platform import main_export  # noqa: E402

if __name__ == "__main__":
    sys.exit(main_export())
