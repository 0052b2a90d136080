"""Validate requests and responses against Tripletex's own OpenAPI spec (v2.72.00).

The spec lives outside the repo (../shared/tripletex/openapi.json); tests that need it are
skipped when it is missing. Every operation in the spec documents only a `default` response
(the success body), so error responses (status >= 400) are validated as `ApiError`. Paths may
be given as spec templates (`/ledger/voucher/{id}`) or as URLs (`http://…/v2/ledger/voucher/7`,
with `>` raw or percent-encoded).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker

from tests.requirements import missing

SPEC_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "tripletex" / "openapi.json"
JSON_TYPES = ("application/json", "application/json; charset=utf-8")


@functools.cache
def _read_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def load_spec() -> dict[str, Any]:
    """The parsed spec (cached); skips the calling test when the file is absent."""
    if not SPEC_PATH.exists():
        missing(
            "spec",
            "Tripletex spec ../shared/tripletex/openapi.json not found: contract tests need it",
        )
    return _read_spec()


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in _read_spec()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    # Literal paths (`/ledger/voucher/>externalVoucherNumber`) beat templates (`/{id}`).
    patterns.sort(key=lambda p: p[1].count("{"))
    return patterns


def _template(path_or_url: str) -> str:
    path = unquote(urlsplit(path_or_url).path)
    if "/v2/" in path:
        path = path[path.index("/v2/") + 3 :]
    if path in _read_spec()["paths"]:
        return path
    for pattern, template in _path_patterns():
        if pattern.match(path):
            return template
    raise AssertionError(f"{path} is not a path of the Tripletex spec")


def _operation(method: str, path_or_url: str) -> tuple[str, dict[str, Any]]:
    load_spec()
    template = _template(path_or_url)
    operation = _read_spec()["paths"][template].get(method.lower())
    if operation is None:
        raise AssertionError(f"{method.upper()} {template} is not an operation of the spec")
    return template, operation


@functools.cache
def _validator(ref: str, write: bool) -> OAS30ReadValidator | OAS30WriteValidator:
    # The schema carries the spec's components so that "#/components/..." refs resolve.
    schema = {"$ref": ref, "components": _read_spec()["components"]}
    cls = OAS30WriteValidator if write else OAS30ReadValidator
    return cls(schema, format_checker=oas30_format_checker)


def _check(ref: str, instance: Any, *, write: bool, what: str) -> None:
    errors = sorted(_validator(ref, write).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(
            f"  at {'/'.join(str(p) for p in e.path) or '<root>'}: {e.message[:300]}"
            for e in errors[:10]
        )
        raise AssertionError(f"{what} does not match {ref.rsplit('/', 1)[-1]}:\n{details}")


def _schema_ref(content: dict[str, Any]) -> str | None:
    for media in JSON_TYPES:
        schema = content.get(media, {}).get("schema")
        if schema and "$ref" in schema:
            return str(schema["$ref"])
    return None


def validate_response(method: str, path_template_or_url: str, status: int, body_json: Any) -> None:
    """Assert a response body matches the spec (ApiError for errors); raises AssertionError."""
    template, operation = _operation(method, path_template_or_url)
    what = f"{method.upper()} {template} → {status}"
    if status >= 400:
        _check("#/components/schemas/ApiError", body_json, write=False, what=what)
        assert body_json.get("status") == status, f"{what}: body status {body_json.get('status')}"
        return
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get("default") or {}
    ref = _schema_ref(response.get("content", {}))
    if ref is None or status == 204:
        assert body_json in (None, b"", ""), f"{what}: expected no body"
        return
    _check(ref, body_json, write=False, what=what)


def validate_request(
    method: str, url: str, query: dict[str, Any] | None = None, body: Any = None
) -> None:
    """Assert query parameters and JSON body match the spec; raises AssertionError."""
    template, operation = _operation(method, url)
    what = f"{method.upper()} {template}"
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    params.update({k: v for k, v in (query or {}).items() if v is not None})
    declared = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
    problems = [f"unknown query parameter {name!r}" for name in params if name not in declared]
    for name, spec in declared.items():
        if name not in params:
            if spec.get("required"):
                problems.append(f"missing required query parameter {name!r}")
            continue
        kind = spec.get("schema", {}).get("type")
        value = str(params[name]).lower() if isinstance(params[name], bool) else str(params[name])
        if kind == "integer" and not re.fullmatch(r"-?\d+", value):
            problems.append(f"{name}={value!r} is not an integer")
        if kind == "boolean" and value not in ("true", "false"):
            problems.append(f"{name}={value!r} is not a boolean")
    if problems:
        raise AssertionError(f"{what}: " + "; ".join(problems))
    request_body = operation.get("requestBody")
    if request_body is None:
        assert body is None, f"{what} takes no body"
        return
    if body is None:
        assert not request_body.get("required"), f"{what} needs a body"
        return
    ref = _schema_ref(request_body.get("content", {}))
    if ref is not None:
        _check(ref, body, write=True, what=f"{what} request body")


def validate_multipart_request(method: str, url: str, content_type: str, body: bytes) -> None:
    """Assert a multipart/form-data request matches the spec: its query parameters (as
    validate_request), an operation that takes a form, and the form's parts (every required one
    present, none the schema does not declare); raises AssertionError."""
    import email.parser
    import email.policy

    validate_request(method, url)
    template, operation = _operation(method, url)
    what = f"{method.upper()} {template}"
    content = (operation.get("requestBody") or {}).get("content", {})
    assert "multipart/form-data" in content, f"{what} takes no multipart form"
    assert content_type.startswith("multipart/form-data; boundary="), f"{what}: {content_type}"
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    names = {part.get_param("name", header="content-disposition") for part in message.iter_parts()}
    schema = content["multipart/form-data"]["schema"]
    missing = set(schema.get("required", ())) - names
    unknown = names - set(schema.get("properties", {}))
    assert not missing, f"{what}: missing form part(s) {sorted(missing)}"
    assert not unknown, f"{what}: undeclared form part(s) {sorted(map(str, unknown))}"
