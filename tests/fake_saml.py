"""A SAML 2.0 identity provider for the tests, built with pysaml2's own IdP (``saml2.server.Server``): an RSA
key and a self-signed certificate made with ``cryptography``, its metadata made by ``saml2.metadata``, and
real signed responses (``create_authn_response``, the assertion signed by xmlsec1 as an IdP does).

``FakeIdp.response(...)`` makes the SAMLResponse form value; ``change=`` edits the response before it is
signed (wrong audience, times, recipient, InResponseTo ...), ``sign=False`` leaves the assertion unsigned.
Another ``FakeIdp`` with the same entity id but its own key stands for a forged signature, one with another
entity id for another IdP.

``serve()`` runs it over HTTP on 127.0.0.1 for the browser tests: ``/metadata``, and ``/sso`` receives our
AuthnRequest (HTTP-Redirect) and shows a page with a plain form that posts the signed response to our ACS
("Continue"; no JavaScript needed).
"""
from __future__ import annotations

import base64
import html
import threading
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import pre_signature_part, signed_instance_factory
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.conftest import free_port

# pysaml2's IdP module names cipher modes that cryptography has moved (a deprecation warning at import, which
# the suite turns into an error); the IdP of the tests never encrypts
with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"
MFA = "http://schemas.microsoft.com/claims/multipleauthn"
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def make_key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    """An RSA key and a self-signed certificate (PEM files in ``folder``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def saml_time(delta_seconds: int = 0) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=delta_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeIdp:
    def __init__(self, folder: Path, *, entity_id: str = "https://idp.example/saml", name: str = "idp",
                 sso_url: str = "https://idp.example/sso"):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.entity_id, self.sso_url = folder, entity_id, sso_url
        self.key_file, self.cert_file = make_key_pair(folder, name)
        self.sp_metadata = ""
        self.server: Server | None = None
        self.identity = {"mail": ["lea@sso.example"], "displayName": ["Lea Learner"], "title": ["Analyst"],
                         "department": ["Finance"]}
        self.subject = "subject-lea"
        self.authn_class = MFA
        self._http = None
        self.port: int | None = None

    # --- configuration ----------------------------------------------------------------------------
    def _config(self, with_sp: bool) -> IdPConfig:
        config = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "delete_tmpfiles": True,
            "service": {"idp": {
                "name": "Fake IdP",
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
            }},
        }
        if with_sp:
            config["metadata"] = {"inline": [self.sp_metadata]}
        loaded = IdPConfig()
        loaded.load(config)
        return loaded

    def metadata_xml(self) -> str:
        return entity_descriptor(self._config(with_sp=False)).to_string().decode("utf-8")

    def know_sp(self, sp_metadata: str) -> None:
        """Register our SP (its metadata, as /sso/saml/<key>/metadata serves it)."""
        self.sp_metadata = sp_metadata
        self.server = Server(config=self._config(with_sp=True))

    @property
    def sp_entity_id(self) -> str:
        return next(iter(self.server.metadata.with_descriptor("spsso").keys()))

    @property
    def acs_url(self) -> str:
        return self.server.metadata.assertion_consumer_service(self.sp_entity_id, BINDING_HTTP_POST)[0]["location"]

    # --- responses --------------------------------------------------------------------------------
    def response(self, in_response_to: str | None, *, sign: bool = True, sign_response: bool = False, change=None,
                 subject: str | None = None, identity: dict | None = None,
                 name_id_format: str = NAMEID_FORMAT_PERSISTENT) -> str:
        """The SAMLResponse form value (base64) answering ``in_response_to`` (None: IdP-initiated); ``sign``:
        the assertion signed, ``sign_response``: the Response around it signed too."""
        name_id = NameID(format=name_id_format, text=subject or self.subject)
        made = self.server.create_authn_response(
            identity if identity is not None else self.identity, in_response_to, self.acs_url, self.sp_entity_id,
            name_id=name_id, authn={"class_ref": self.authn_class, "authn_auth": self.entity_id},
            sign_assertion=False, sign_response=False)
        assertion = made.assertion[0] if isinstance(made.assertion, list) else made.assertion
        if change is not None:
            change(made, assertion)
        to_sign = []  # the inner element first: the Response's signature covers the signed assertion
        if sign:
            assertion.signature = pre_signature_part(assertion.id, self.server.sec.my_cert, 1)
            to_sign.append((class_name(assertion), assertion.id))
        if sign_response:
            made.signature = pre_signature_part(made.id, self.server.sec.my_cert, 2)
            to_sign.append((class_name(made), made.id))
        xml = signed_instance_factory(made, self.server.sec, to_sign) if to_sign else str(made)
        if isinstance(xml, bytes):
            xml = xml.decode("utf-8")
        return base64.b64encode(xml.encode("utf-8")).decode("ascii")

    # --- over HTTP (browser tests) ----------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path == "/metadata":
            return Response(self.metadata_xml(), mimetype="application/samlmetadata+xml")(environ, start_response)
        if request.path != "/sso":
            return Response("not found", status=404)(environ, start_response)
        parsed = self.server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        answer = self.response(parsed.message.id)
        page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Fake IdP</title></head>"
                "<body><main><h1>Fake identity provider</h1><p>You are signed in as Lea.</p>"
                f"<form method='post' action='{html.escape(self.acs_url)}'>"
                f"<input type='hidden' name='SAMLResponse' value='{answer}'>"
                "<button type='submit'>Continue</button></form></main></body></html>")
        return Response(page, mimetype="text/html")(environ, start_response)

    def serve(self) -> str:
        """Serve over HTTP on 127.0.0.1; the base URL. The SSO URL must be ``<base>/sso`` (see ``at``)."""
        server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="fake-saml-idp", daemon=True)
        thread.start()
        self._http = (server, thread)
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def at(cls, folder: Path, **kwargs) -> FakeIdp:
        """An IdP whose URLs are on a free loopback port (``serve()`` it there)."""
        port = free_port()
        idp = cls(folder, entity_id=f"http://127.0.0.1:{port}/metadata", sso_url=f"http://127.0.0.1:{port}/sso", **kwargs)
        idp.port = port
        return idp

    def stop(self) -> None:
        if self._http:
            server, thread = self._http
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            self._http = None


# --- changes for the negative cases (``change=``) ------------------------------------------------------

def confirmations(assertion):
    return [c.subject_confirmation_data for c in assertion.subject.subject_confirmation]


def wrong_audience(response, assertion):
    assertion.conditions.audience_restriction[0].audience[0].text = "https://another-app.example/saml"


def expired(response, assertion):
    assertion.conditions.not_before = saml_time(-1200)
    assertion.conditions.not_on_or_after = saml_time(-600)
    for data in confirmations(assertion):
        data.not_on_or_after = saml_time(-600)


def valid_from(seconds: int):
    """NotBefore ``seconds`` from now (the IdP's clock runs ahead)."""
    def change(response, assertion):
        assertion.conditions.not_before = saml_time(seconds)
        assertion.conditions.not_on_or_after = saml_time(seconds + 600)
        for data in confirmations(assertion):
            data.not_on_or_after = saml_time(seconds + 600)
    return change


def wrong_destination(response, assertion):
    response.destination = "https://elsewhere.example/acs"


def wrong_recipient(response, assertion):
    for data in confirmations(assertion):
        data.recipient = "https://elsewhere.example/acs"


def answering(request_id: str):
    def change(response, assertion):
        response.in_response_to = request_id
        for data in confirmations(assertion):
            data.in_response_to = request_id
    return change
