"""Cheaper template helpers: a page calls ``url_for`` and ``_()`` dozens of times, and each call through
Flask and Jinja's i18n extension costs more than the rest of the template together.

- ``url_for``: the URL of an endpoint with the same arguments does not change while the app runs, so
  templates get a memoised version. The key holds everything the answer depends on: the endpoint, the
  arguments, the request's script root (and host and scheme for external URLs), and the blueprint for
  ``.relative`` endpoints. Only simple argument values (str, int, bool, None) are memoised; anything
  else goes to Flask's ``url_for`` as before.
- ``_()`` and ``ngettext``: bound once per request to that request's translations (not looked up per
  call), and a message without placeholders is translated and marked safe once per language and kept.
"""
from __future__ import annotations

from flask import request
from flask import url_for as flask_url_for
from jinja2 import pass_context
from markupsafe import Markup

MAX_ENTRIES = 20_000  # a safety bound: URLs with many distinct values (ids) must not grow memory forever
_SIMPLE = (str, int, bool, type(None))


def memoised_url_for():
    cache: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        try:
            items = tuple(sorted(values.items()))
        except TypeError:
            return flask_url_for(endpoint, **values)
        if not all(type(v) in _SIMPLE for _k, v in items):
            return flask_url_for(endpoint, **values)
        external = values.get("_external")
        key = (endpoint, items, request.script_root,
               request.blueprint if endpoint.startswith(".") else None,
               request.host_url if external else None)
        url = cache.get(key)
        if url is None:
            url = flask_url_for(endpoint, **values)
            if len(cache) >= MAX_ENTRIES:
                cache.clear()
            cache[key] = url
        return url

    return url_for


# keyed by the Translations object itself (identity), so an entry can never be confused with another language's
_plain_cache: dict[tuple[object, str, bool], Markup | str] = {}


def request_gettext(translations):
    """``gettext`` for templates bound to ``translations`` (a babel Translations object, one per language,
    kept by Flask-Babel for the life of the app)."""
    @pass_context
    def gettext(__context, __string: str, **variables):
        autoescape = __context.eval_ctx.autoescape
        if not variables:
            key = (translations, __string, autoescape)
            rv = _plain_cache.get(key)
            if rv is None:
                # like Jinja's newstyle gettext: the message is %-formatted even without variables ("%%" -> "%")
                rv = (Markup(translations.gettext(__string)) if autoescape else translations.gettext(__string)) % {}
                if len(_plain_cache) >= MAX_ENTRIES:
                    _plain_cache.clear()
                _plain_cache[key] = rv
            return rv
        rv = translations.gettext(__string)
        if autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
        variables.setdefault("num", __num)
        rv = translations.ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return gettext, ngettext
