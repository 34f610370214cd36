"""Reading SCIM requests: the JSON body, validation with scim2-models, the strings we store, the list
parameters (``filter``, ``startIndex``, ``count``). Everything refused here is a ScimError (a 4xx in SCIM's
format), never an exception that would become a 500."""
from __future__ import annotations

import json
import re
import unicodedata

from flask import request
from pydantic import ValidationError
from scim2_models import Context, SCIMException, ScimPolicy

from leadthe.scim.errors import ScimError, from_library

# Entra ID removes group members with a value listing them (``{"op": "Remove", "path": "members", "value":
# [{"value": "<id>"}]}``) where RFC 7644 puts a filter in the path: read such a value as the filter
POLICY = ScimPolicy(remove_value_as_filter=ScimPolicy.RemoveValue.apply)
JSON_TYPES = {"application/scim+json", "application/json"}
MAX_RESULTS = 100  # per page (ServiceProviderConfig filter.maxResults)
MAX_START = 2**31 - 1

# what the lists can be filtered by: ``<attribute> eq <value>`` (the attribute is case-insensitive, RFC 7644
# §3.4.2.2); the value a JSON string or true/false
_FILTER = re.compile(r'^\s*([A-Za-z][A-Za-z0-9_.$:-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false)\s*$', re.IGNORECASE)


def body() -> dict:
    """The request's JSON object (``application/scim+json`` or ``application/json``)."""
    if request.mimetype and request.mimetype not in JSON_TYPES:
        raise ScimError(415, "The body must be application/scim+json.")
    try:
        data = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        raise ScimError(400, "The body is not valid JSON.", "invalidSyntax") from None
    if not isinstance(data, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    return data


def validate(model, data: dict, context: Context):
    try:
        with POLICY:
            return model.model_validate(data, scim_ctx=context)
    except (ValidationError, SCIMException) as exc:
        raise from_library(exc) from None
    except (TypeError, ValueError, RecursionError):
        raise ScimError(400, "The body is not valid.", "invalidSyntax") from None


def apply_patch(patch, resource) -> None:
    """Apply a validated PatchOp to a resource (in place), refusals as ScimError."""
    try:
        patch.patch(resource, scim_policy=POLICY)
    except (ValidationError, SCIMException) as exc:
        raise from_library(exc) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        raise ScimError(400, "The operation cannot be applied.", "invalidValue") from None


def _unstorable(value: str) -> bool:
    # NUL and lone surrogates cannot be stored (PostgreSQL refuses them); other control characters make no name
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def text(value, attribute: str, max_length: int) -> str:
    """A string attribute as we store it: stripped, bounded, free of control characters ("" when absent)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{attribute} must be a string.", "invalidValue")
    value = value.strip()
    if _unstorable(value):
        raise ScimError(400, f"{attribute} contains control characters.", "invalidValue")
    if len(value) > max_length:
        raise ScimError(400, f"{attribute} is longer than {max_length} characters.", "invalidValue")
    return value


def _number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", raw.strip()):
        raise ScimError(400, f"{name} must be an integer.", "invalidValue")
    return int(raw)


def page() -> tuple[int, int]:
    """(startIndex, count): 1-based, count at most MAX_RESULTS (RFC 7644 §3.4.2.4: below 1 means 1, below 0 means 0)."""
    start = min(max(_number("startIndex", 1), 1), MAX_START)
    count = min(max(_number("count", MAX_RESULTS), 0), MAX_RESULTS)
    return start, count


def filter_clause(filters: dict):
    """The SQL condition of the ``filter`` parameter, or None; ``filters`` maps a lower-cased attribute name to a
    function of the value (a str or a bool) returning the condition or raising ScimError."""
    raw = request.args.get("filter")
    if raw is None or not raw.strip():
        return None
    match = _FILTER.match(raw) if len(raw) <= 1000 else None
    if match is None:
        raise ScimError(400, 'Supported filters: <attribute> eq "<value>".', "invalidFilter")
    attribute, literal = match.group(1).lower(), match.group(2)
    if attribute not in filters:
        raise ScimError(400, f"Filtering by {match.group(1)[:100]} is not supported.", "invalidFilter")
    try:
        value = json.loads(literal) if literal.startswith('"') else literal.lower() == "true"
    except ValueError:
        raise ScimError(400, "The filter's value is not a valid string.", "invalidFilter") from None
    if isinstance(value, str) and _unstorable(value):
        raise ScimError(400, "The filter's value contains control characters.", "invalidFilter")
    return filters[attribute](value)


def as_text(value) -> str:
    if not isinstance(value, str):
        raise ScimError(400, "This filter compares with a string.", "invalidFilter")
    return value


def as_bool(value) -> bool:
    if not isinstance(value, bool):
        raise ScimError(400, "This filter compares with true or false.", "invalidFilter")
    return value
