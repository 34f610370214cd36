"""Response compression (brotli when the browser accepts it, else gzip).

Static files are compressed once per file version and kept in memory; pages are compressed per response.
"""
from __future__ import annotations

import gzip
import re
import threading

import brotli
from flask import Flask, Response, request

COMPRESSIBLE = {
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "image/svg+xml", "application/xml",
}
MIN_SIZE = 512
# the stylesheet's comments are notes for us, not the browser: a seventh of its compressed size on every first visit
_CSS_COMMENT = re.compile(rb"/\*.*?\*/\n?", re.S)

_cache: dict[tuple[str, str, str], bytes] = {}
_lock = threading.Lock()


def _choose(accept: str) -> str | None:
    offered = {}
    for part in accept.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        offered[name.strip()] = q
    for algo in ("br", "gzip"):
        if offered.get(algo, 0) > 0:
            return algo
    return None


def _compress(data: bytes, algo: str, static: bool) -> bytes:
    if algo == "br":
        # A window no larger than the data compresses exactly as well, and spares allocating (and page
        # faulting) the default 4 MB window for every page: the page's compression time drops by two thirds.
        window = min(max((len(data) - 1).bit_length(), 16), 22)
        return brotli.compress(data, quality=11 if static else 5, lgwin=window)
    return gzip.compress(data, compresslevel=9 if static else 6, mtime=0)


def compress_response(response: Response) -> Response:
    if response.direct_passthrough and request.endpoint != "static":
        return response
    if not _worth_compressing(response):
        _add_vary(response)
        return response
    algo = _choose(request.headers.get("Accept-Encoding", ""))
    _add_vary(response)
    if algo is None:
        return response
    original = response.response
    response.direct_passthrough = False
    data = response.get_data()
    if hasattr(original, "close"):
        original.close()  # a static file's handle
    if len(data) < MIN_SIZE:
        return response
    if request.endpoint == "static":
        body = _compressed_static(data, algo, response.headers.get("ETag", ""), response.mimetype)
    else:
        body = _compress(data, algo, static=False)
    response.set_data(body)
    response.headers["Content-Encoding"] = algo
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(f"{etag}-{algo}")
    return response


def _worth_compressing(response: Response) -> bool:
    """A successful response with a body of a compressible type, not encoded or streamed yet (a static file may be)."""
    return not (
        response.status_code < 200
        or response.status_code >= 300
        or response.status_code == 204
        or response.mimetype not in COMPRESSIBLE
        or "Content-Encoding" in response.headers
        or response.is_streamed and request.endpoint != "static"
        or request.method == "HEAD"
    )


def _compressed_static(data: bytes, algo: str, etag: str, mimetype: str) -> bytes:
    """A static file's compressed body, once per file version (path and ETag) and algorithm; a stylesheet
    without its comments (none of ours holds "/*" in a string)."""
    key = (request.path, etag, algo)
    with _lock:
        body = _cache.get(key)
    if body is None:
        if mimetype == "text/css":
            data = _CSS_COMMENT.sub(b"", data)
        body = _compress(data, algo, static=True)
        with _lock:
            _cache[key] = body
    return body


def _add_vary(response: Response) -> None:
    response.vary.add("Accept-Encoding")


def init_compression(app: Flask) -> None:
    app.after_request(compress_response)
