"""The platform contract (docs/platform-openapi.json) checked with openapi-core.

openapi-core is a maintained OpenAPI 3.0/3.1 validator: it checks the document
itself when loaded (openapi-spec-validator) and every request and response
against it (parameters, headers, content types, bodies through jsonschema,
formats included). This module only adapts recorded exchanges to its API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

HOST = "http://127.0.0.1"


def load(doc: dict[str, Any]) -> OpenAPI:
    """The validator for ``doc``; raises if the document is not valid OpenAPI."""
    return OpenAPI.from_dict(doc)


def _describe(exc: BaseException) -> str:
    """The error and its causes (openapi-core wraps the jsonschema errors)."""
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", ()) or ():
            parts.append(f"  {sub.message} at {'/'.join(map(str, sub.path)) or '$'}")
        cause = cause.__cause__
    return " <- ".join(parts)


def _request(method: str, path: str, body: bytes, content_type: str,
             headers: Mapping[str, str] | None, query: Mapping[str, Any] | None) -> MockRequest:
    return MockRequest(HOST, method.lower(), path, headers=dict(headers or {}), args=dict(query or {}),
                       data=body or None, content_type=content_type)


def request_errors(api: OpenAPI, method: str, path: str, body: bytes = b"", *,
                   content_type: str = "application/json", headers: Mapping[str, str] | None = None,
                   query: Mapping[str, Any] | None = None) -> list[str]:
    req = _request(method, path, body, content_type, headers, query)
    return [_describe(e) for e in api.iter_request_errors(req)]


def response_errors(api: OpenAPI, method: str, path: str, status: int, body: bytes, *,
                    request_body: bytes = b"", request_content_type: str = "application/json",
                    headers: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None,
                    content_type: str = "application/json") -> list[str]:
    req = _request(method, path, request_body, request_content_type, headers, query)
    resp = MockResponse(body, status_code=status, content_type=content_type)
    return [_describe(e) for e in api.iter_response_errors(req, resp)]


def find_template(doc: dict[str, Any], method: str, path: str) -> str | None:
    """The document's path template serving ``method path`` (for coverage counts only)."""
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return template
    return None
