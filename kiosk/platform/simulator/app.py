"""The platform simulator: a FastAPI app serving the contract (docs/platform-openapi.json).

``create_app(seed, ...)`` builds the app; ``kiosk.platform.simulator.server``
runs it on uvicorn. Everything under ``/v1`` is the contract the kiosk's
``HttpPlatform`` speaks; ``/admin`` endpoints are simulator-only (fault
injection, issuing e-SSC codes, listing stored submissions for tests) and are
left out of the OpenAPI document.

This module only assembles the parts: ``models`` and ``status`` (the contract's
bodies), ``state`` (the simulated province), ``errors`` (the error body),
``middleware`` (fault injection, device signature) and ``routes`` (one router
per group of endpoints).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from kiosk.platform.simulator import errors
from kiosk.platform.simulator.middleware import AuthMiddleware, FaultMiddleware
from kiosk.platform.simulator.models import API_VERSION
from kiosk.platform.simulator.routes import admin, applications, enquiries, kiosk, residents, service
from kiosk.platform.simulator.state import SimState

#: The route groups in the order their paths appear in the OpenAPI document.
GROUPS = (kiosk, residents, enquiries, applications, service)


def create_app(
    seed: int = 42,
    *,
    today: _dt.date | None = None,
    state_path: str | Path | None = None,
    device_secret: str = "dev-secret-change-me",
    n_residents: int = 3000,
    admin_token: str | None = None,
) -> FastAPI:
    """``admin_token``: the bearer token every ``/admin`` route requires (issue 12, fault 3);
    None = a random one nobody knows (admin routes closed)."""
    state = SimState(seed, today, Path(state_path) if state_path else None, device_secret, n_residents)
    token = admin_token or secrets.token_urlsafe(32)
    if today is not None:
        state._live_clock = False

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="就近办 provincial platform API (kiosk contract)",
        version=API_VERSION,
        description=(
            "The API the village self-service kiosk needs from the provincial employment & social-security "
            "platform. Every /v1 call except /v1/health carries the device signature headers "
            "(X-Device-Id, X-Timestamp, X-Signature; see docs/platform.md). Submissions carry an "
            "Idempotency-Key: the same key always yields the same answer and is recorded once."
        ),
    )
    app.state.sim = state
    app.add_middleware(AuthMiddleware, state=state)
    app.add_middleware(FaultMiddleware, state=state)  # outermost: faults hit before anything else
    errors.install(app)
    for group in GROUPS:
        app.include_router(group.router(state))
    app.include_router(admin.router(state, token))
    return app


def openapi_document() -> dict[str, Any]:
    """The contract as served by the simulator (what docs/platform-openapi.json must equal)."""
    app = create_app(0, today=_dt.date(2026, 1, 1), n_residents=1)
    return app.openapi()
