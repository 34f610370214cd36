"""The SCIM 2.0 endpoints: ``Users``, ``Groups``, ``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``.

Each route takes every method and answers those it does not support with a 405 in SCIM's format (the URL
map's own 405 would be an HTML page); any other address under /scim/v2 is a SCIM 404."""
from __future__ import annotations

from flask import Response, request
from pydantic import ValidationError
from scim2_models import SCIMException
from werkzeug.exceptions import HTTPException

from leadthe.scim import auth, bp, discovery, groups, users
from leadthe.scim.errors import ScimError, error_response, from_library

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

bp.before_request(auth.authenticate)
bp.after_request(auth.log_request)
bp.teardown_request(auth.release)


@bp.errorhandler(ScimError)
def _scim_error(exc: ScimError):
    return error_response(exc.status, exc.detail, exc.scim_type, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error_response(exc.code or 400, exc.description or exc.name)


@bp.errorhandler(ValidationError)
@bp.errorhandler(SCIMException)
def _library_error(exc):
    refused = from_library(exc)
    return error_response(refused.status, refused.detail, refused.scim_type)


def _dispatch(handlers: dict, *args):
    method = "GET" if request.method == "HEAD" else request.method
    handler = handlers.get(method)
    if handler is None:
        raise ScimError(405, f"{request.method[:10]} is not supported here.",
                        headers={"Allow": ", ".join(sorted(handlers))})
    answer = handler(*args)
    return Response(status=204) if answer is None else answer


@bp.route("/Users", methods=METHODS, endpoint="users")
def users_():
    return _dispatch({"GET": users.list_users, "POST": users.create_user})


@bp.route("/Users/<user_id>", methods=METHODS)
def user(user_id):
    return _dispatch({"GET": users.get_user, "PUT": users.replace_user, "PATCH": users.patch_user,
                      "DELETE": users.delete_user}, user_id)


@bp.route("/Groups", methods=METHODS, endpoint="groups")
def groups_():
    return _dispatch({"GET": groups.list_groups, "POST": groups.create_group})


@bp.route("/Groups/<group_id>", methods=METHODS)
def group(group_id):
    return _dispatch({"GET": groups.get_group, "PUT": groups.replace_group, "PATCH": groups.patch_group,
                      "DELETE": groups.delete_group}, group_id)


@bp.route("/ServiceProviderConfig", methods=METHODS)
def service_provider_config():
    return _dispatch({"GET": discovery.service_provider_config})


@bp.route("/ResourceTypes", methods=METHODS)
def resource_types():
    return _dispatch({"GET": discovery.resource_types})


@bp.route("/ResourceTypes/<type_id>", methods=METHODS)
def resource_type(type_id):
    return _dispatch({"GET": discovery.resource_type}, type_id)


@bp.route("/Schemas", methods=METHODS)
def schemas():
    return _dispatch({"GET": discovery.schemas})


@bp.route("/Schemas/<schema_id>", methods=METHODS)
def schema(schema_id):
    return _dispatch({"GET": discovery.schema}, schema_id)


@bp.route("/<path:rest>", methods=METHODS)
def unknown(rest):
    raise ScimError(404, "No such endpoint.")
