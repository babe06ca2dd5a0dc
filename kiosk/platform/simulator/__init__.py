"""Simulator of the provincial platform: the contract served with synthetic data.

``create_app(seed)`` builds the FastAPI app; ``server.serve(...)`` runs it on
uvicorn (``kiosk platform-sim``); ``openapi_document()`` is the contract.

The names are imported on first use: the kiosk process imports the launcher
and the data generator (for its simulated devices) and must not load FastAPI
and pydantic (~20-37 MiB) for that.
"""

from __future__ import annotations

__all__ = ["API_VERSION", "create_app", "openapi_document"]


def __getattr__(name: str):
    if name in __all__:
        from kiosk.platform.simulator import app

        return getattr(app, name)
    raise AttributeError(name)
