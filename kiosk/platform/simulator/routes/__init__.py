"""The simulator's endpoints, one module per group (the OpenAPI tags), each a ``router(state)`` factory.

``app.create_app`` includes them in the order of ``GROUPS``; that order is the
order of the paths in docs/platform-openapi.json.
"""
