"""A small validator for the JSON-Schema subset FastAPI emits in OpenAPI 3.1 documents."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}


def resolve(root: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def errors(root: dict, schema: dict, value: Any, where: str = "$") -> list[str]:
    schema = resolve(root, schema)
    out: list[str] = []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf")
        if all(errors(root, s, value, where) for s in options):
            out.append(f"{where}: matches none of {len(options)} alternatives")
        return out
    for sub in schema.get("allOf", []):
        out += errors(root, sub, value, where)
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} != const {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    t = schema.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        ok = False
        for one in ts:
            if one == "null":
                ok |= value is None
            elif one in ("integer", "number") and isinstance(value, bool):
                continue
            else:
                ok |= isinstance(value, TYPES[one])
        if not ok:
            return out + [f"{where}: {type(value).__name__} is not {t}"]
    if isinstance(value, str):
        if schema.get("format") == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                out.append(f"{where}: {value!r} is not a date")
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: above {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{where}: missing required {name!r}")
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                out += errors(root, props[k], v, f"{where}.{k}")
            elif extra is False:
                out.append(f"{where}: unexpected property {k!r}")
            elif isinstance(extra, dict):
                out += errors(root, extra, v, f"{where}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += errors(root, schema["items"], v, f"{where}[{i}]")
    return out


def find_operation(doc: dict, method: str, path: str) -> tuple[str, dict] | None:
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            # prefer literal matches (e.g. /v1/faults/replies over a template)
            return template, ops[method.lower()]
    return None
