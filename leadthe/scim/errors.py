"""SCIM's error format (RFC 7644 §3.12) and its media type.

The ``detail`` of an error is read by identity providers' logs and by the people who set them up, beside the
protocol's own English keywords (``scimType``): it is machine-facing protocol text and not translated."""
from __future__ import annotations

import json

from flask import Response
from pydantic import ValidationError
from scim2_models import Error, SCIMException

MEDIA_TYPE = "application/scim+json"


class ScimError(Exception):
    """A refusal in SCIM's terms: the HTTP status, the RFC's ``scimType`` keyword (if one fits) and a detail."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type, self.headers = status, detail, scim_type, headers or {}


def scim_response(payload: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE, headers=headers)


def error_response(status: int, detail: str, scim_type: str | None = None, headers: dict | None = None) -> Response:
    payload = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return scim_response(payload, status, headers)


def from_library(exc: Exception) -> ScimError:
    """A refusal of scim2-models (a validation error of a body, a patch that cannot apply) as our ScimError."""
    if isinstance(exc, ValidationError):
        errors = Error.from_validation_errors(exc)
        first = errors[0] if errors else Error(status=400, scim_type="invalidSyntax", detail="The body is not valid.")
        return ScimError(int(first.status or 400), _short(first.detail), first.scim_type)
    if isinstance(exc, SCIMException):
        return ScimError(exc.status, _short(exc.detail), exc.scim_type or None)
    return ScimError(400, "The body is not valid.", "invalidSyntax")


def _short(detail: str | None) -> str:
    # a detail may quote the value it refused: a bounded answer whatever was sent
    return (detail or "The body is not valid.")[:300]
