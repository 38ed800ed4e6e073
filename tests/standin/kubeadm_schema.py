"""Check kubeadm configuration documents against kubeadm-schemas.yaml.

Used by the kubeadm stand-in (tests/standin/kubeadm) and by the unit tests,
so the documents the filter renders are checked exactly as the stand-in
checks the file it is given.  Python 3.8+, needs only PyYAML.
"""

from __future__ import annotations

import os

import yaml

HERE = os.path.dirname(os.path.realpath(__file__))
SCHEMA_ENV = "KUBEADM_STANDIN_SCHEMAS"
SCALARS = ("string", "int32", "bool", "duration", "time", "any")


def schema_path() -> str:
    """$KUBEADM_STANDIN_SCHEMAS, else kubeadm-schemas.yaml beside this file."""
    return os.environ.get(SCHEMA_ENV) or os.path.join(HERE, "kubeadm-schemas.yaml")


def load_schemas(path: str | None = None) -> dict:
    with open(path or schema_path(), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _check(value, typ: str, types: dict, where: str, errors: list) -> None:
    if typ.startswith("*"):
        if value is None:
            return
        typ = typ[1:]
    if typ == "any":
        return
    if typ.startswith("[]"):
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list ({typ}), got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(item, typ[2:], types, f"{where}[{i}]", errors)
        return
    if typ.startswith("map[string]"):
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a map ({typ}), got {type(value).__name__}")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(f"{where}: map key {key!r} is not a string")
            _check(item, typ[len("map[string]"):], types, f"{where}.{key}", errors)
        return
    if typ in ("string", "duration", "time"):
        if not isinstance(value, str):
            errors.append(f"{where}: expected {typ} (a string), got {type(value).__name__}: {value!r}")
        return
    if typ == "int32":
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
            errors.append(f"{where}: expected int32, got {type(value).__name__}: {value!r}")
        return
    if typ == "bool":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected bool, got {type(value).__name__}: {value!r}")
        return
    struct = types.get(typ)
    if struct is None:
        errors.append(f"{where}: schema error, unknown type {typ!r}")
        return
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an object ({typ}), got {type(value).__name__}")
        return
    for req in struct.get("_required", []):
        if req not in value:
            errors.append(f"{where}: missing required field {req!r} ({typ})")
    for key, item in value.items():
        if key.startswith("_") or key not in struct:
            errors.append(f"{where}: unknown field {key!r} in {typ}")
            continue
        _check(item, struct[key], types, f"{where}.{key}", errors)


def validate_document(doc, schemas: dict, index: int = 0) -> list:
    """Errors (list of strings, empty when valid) for one document."""
    where = f"document {index}"
    if not isinstance(doc, dict):
        return [f"{where}: expected a mapping, got {type(doc).__name__}"]
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if api not in schemas:
        known = ", ".join(sorted(schemas))
        return [f"{where}: unknown apiVersion {api!r} (known: {known})"]
    entry = schemas[api]
    if kind not in entry["kinds"]:
        return [f"{where}: {api} has no kind {kind!r} (kinds: {', '.join(entry['kinds'])})"]
    body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")}
    errors: list = []
    _check(body, entry["kinds"][kind], entry["types"], f"{where} ({kind})", errors)
    return errors


def validate_documents(docs: list, schemas: dict) -> list:
    errors: list = []
    for i, doc in enumerate(docs):
        errors.extend(validate_document(doc, schemas, i))
    return errors


def readable_by(api: str, minor: int, schemas: dict) -> bool:
    """True when kubeadm 1.<minor> reads apiVersion ``api``."""
    first, last = schemas[api]["reads"]
    return first <= minor <= last
