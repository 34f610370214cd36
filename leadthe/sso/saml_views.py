"""SAML 2.0 service provider: ``/sso/saml/<key>/metadata``, ``…/start``, ``…/acs`` (the assertion consumer
service) and ``/sso/saml/finish`` (the browser's own request that completes the log-in)."""
from __future__ import annotations

from flask import abort

from leadthe.sso import bp


@bp.route("/sso/saml/<key>/metadata")
def saml_metadata(key):
    abort(404)


@bp.route("/sso/saml/<key>/start")
def saml_start(key):
    abort(404)


@bp.route("/sso/saml/<key>/acs", methods=["POST"])
def saml_acs(key):
    abort(404)


@bp.route("/sso/saml/finish")
def saml_finish():
    abort(404)
