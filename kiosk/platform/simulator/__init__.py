"""Simulator of the provincial platform: the contract served with synthetic data.

``app.create_app(seed)`` builds the FastAPI app; ``server.serve(...)`` runs it
on uvicorn (``kiosk platform-sim``); ``app.openapi_document()`` is the contract;
``launcher`` starts it as a subprocess (the one door production code uses).

This package's ``__init__`` imports nothing: FastAPI and uvicorn come with the
``sim`` extra, and importing the launcher must work without them.
"""
