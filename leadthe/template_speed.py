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

from flask.globals import _cv_app, _cv_request
from flask_babel import get_translations
from flask import url_for as flask_url_for
from jinja2 import pass_context
from markupsafe import Markup

MAX_ENTRIES = 20_000  # a safety bound: URLs with many distinct values (ids) must not grow memory forever
_SIMPLE = (str, int, bool, type(None))


_urls: dict[tuple, str] = {}


def url_for(endpoint: str, **values) -> str:
    """``flask.url_for``, memoised (see the module's docstring)."""
    ctx = _cv_request.get(None)  # the request context itself: one lookup instead of a proxy per attribute
    if ctx is None:  # mails and exports built by the worker: absolute URLs from settings
        return flask_url_for(endpoint, **values)
    if len(values) > 1:
        try:
            items = tuple(sorted(values.items()))
        except TypeError:
            return flask_url_for(endpoint, **values)
    else:
        items = tuple(values.items())
    for _name, value in items:
        if type(value) not in _SIMPLE:
            return flask_url_for(endpoint, **values)
    req = ctx.request
    key = (endpoint, items, req.script_root, req.blueprint if endpoint[0] == "." else None,
           req.host_url if values.get("_external") else None)
    url = _urls.get(key)
    if url is None:
        url = flask_url_for(endpoint, **values)
        if len(_urls) >= MAX_ENTRIES:
            _urls.clear()
        _urls[key] = url
    return url


# keyed by the Translations object itself (identity), so an entry can never be confused with another language's
_plain_cache: dict[tuple[object, str, bool], Markup | str] = {}


def _current_translations():
    """Flask-Babel's translations for this request, looked up once per request (and again only when
    ``force_locale`` changed the locale meanwhile)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return get_translations()
    g_ = app_ctx.g
    locale = getattr(getattr(g_, "_flask_babel", None), "babel_locale", None)
    cached = getattr(g_, "_leadthe_translations", None)
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g_._leadthe_translations = (getattr(getattr(g_, "_flask_babel", None), "babel_locale", None), translations)
    return translations


def install_global_gettext(env) -> None:
    """For templates without the page's context (imported macros): the environment's gettext follows the
    current request's language, with the memo of ``request_gettext``."""
    gettext, ngettext = request_gettext(None)
    env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)


def request_gettext(translations):
    """``gettext`` for templates bound to ``translations`` (a babel Translations object, one per language,
    kept by Flask-Babel for the life of the app); with None, to the current request's."""
    fixed = translations

    @pass_context
    def gettext(__context, __string: str, **variables):
        autoescape = __context.eval_ctx.autoescape
        translations = fixed if fixed is not None else _current_translations()
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
        rv = (fixed if fixed is not None else _current_translations()).ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return gettext, ngettext

