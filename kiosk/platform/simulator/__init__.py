"""Simulator of the provincial platform: the contract served with synthetic data.

``create_app(seed)`` builds the FastAPI app; ``server.serve(...)`` runs it on
uvicorn (``kiosk platform-sim``); ``openapi_document()`` is the contract.
"""

from kiosk.platform.simulator.app import API_VERSION, create_app, openapi_document

__all__ = ["API_VERSION", "create_app", "openapi_document"]
