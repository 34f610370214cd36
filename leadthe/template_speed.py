"""Cheaper template helpers: a page calls ``url_for`` and ``_()`` dozens of times, and each call through
Flask and Jinja's i18n extension costs more than the rest of the template together.

- ``url_for``: the URL of an endpoint with the same arguments does not change while the app runs, so
  templates get a memoised version, kept per app. The key holds everything the answer depends on: the
  endpoint, each argument with its type (``True`` and ``1`` build different URLs), the request's script
  root (and host and scheme for external URLs), and the blueprint for ``.relative`` endpoints. Only simple
  argument values (str, int, bool, None) are memoised; anything else goes to Flask's ``url_for``. The memo
  is only switched on (``init_template_speed``, at the end of ``create_app``) for an app without
  ``url_defaults`` functions, host matching or subdomain matching, whose URLs could depend on more than
  the key; otherwise templates get Flask's own ``url_for``.
- ``_()``, ``gettext`` and ``ngettext``: a context processor binds them once per render to that request's
  translations (Flask-Babel's public ``get_translations()``), so a page does not look the locale and
  catalogue up on every call; a message without placeholders is translated and marked safe once per
  language and kept. Macros imported without context use the environment's globals, which ask
  ``get_translations()`` per call (so ``force_locale`` is followed there too).
"""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask import url_for as flask_url_for
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup

from leadthe.i18n import format_count

MAX_ENTRIES = 20_000  # a safety bound: URLs with many distinct values (ids) must not grow memory forever
_SIMPLE = (str, int, bool, type(None))
_MEMO = "leadthe.url_memo"


def url_memo_is_safe(app: Flask) -> bool:
    """Whether a URL can only depend on what ``url_for``'s memo key holds."""
    has_defaults = any(app.url_default_functions.values())
    return not (has_defaults or app.url_map.host_matching or app.subdomain_matching)


def init_template_speed(app: Flask) -> None:
    """Install the template helpers; call once all blueprints are registered."""
    if url_memo_is_safe(app):
        app.extensions[_MEMO] = {}
        app.jinja_env.globals["url_for"] = url_for
    else:
        app.extensions.pop(_MEMO, None)
        app.jinja_env.globals["url_for"] = flask_url_for
        app.logger.info("url_for memo off: the app has url_defaults, host or subdomain matching")
    gettext, ngettext = request_gettext(None)
    app.jinja_env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)

    @app.context_processor
    def _bind_gettext():
        bound, nbound = request_gettext(get_translations())
        return {"gettext": bound, "_": bound, "ngettext": nbound}


def url_for(endpoint: str, **values) -> str:
    """``flask.url_for``, memoised (see the module's docstring)."""
    memo = current_app.extensions.get(_MEMO) if has_request_context() else None
    if memo is None:  # mails and exports built by the worker, or an app whose URLs the key cannot describe
        return flask_url_for(endpoint, **values)
    try:
        items = tuple((name, type(value), value) for name, value in sorted(values.items()))
    except TypeError:
        return flask_url_for(endpoint, **values)
    if any(kind not in _SIMPLE for _name, kind, _value in items):
        return flask_url_for(endpoint, **values)
    key = (endpoint, items, request.script_root, request.blueprint if endpoint[0] == "." else None,
           request.host_url if values.get("_external") else None)
    url = memo.get(key)
    if url is None:
        url = flask_url_for(endpoint, **values)
        if len(memo) >= MAX_ENTRIES:
            memo.clear()
        memo[key] = url
    return url


# keyed by the Translations object itself (identity), so an entry can never be confused with another language's
_plain_cache: dict[tuple[object, str, bool], Markup | str] = {}


def request_gettext(translations):
    """``gettext`` and ``ngettext`` for templates bound to ``translations`` (a babel Translations object,
    one per language, kept by Flask-Babel for the life of the app); with None, to the current request's."""
    fixed = translations

    @pass_context
    def gettext(__context, __string: str, **variables):
        autoescape = __context.eval_ctx.autoescape
        translations = fixed if fixed is not None else get_translations()
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
        variables.setdefault("num", format_count(__num) if isinstance(__num, int) else __num)
        rv = (fixed if fixed is not None else get_translations()).ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return gettext, ngettext
