"""A fake OpenAI-compatible model server on loopback, for the practice-lab tests and benchmarks.

``POST /v1/chat/completions`` and ``GET /v1/models``. What it does is chosen by the *model name*:

=================  ==========================================================================================
``ok``             answers (streamed when asked, with usage in the last chunk when ``stream_options``
                   asks for it; one JSON body otherwise, with usage)
``no-usage``       like ``ok`` but never reports usage
``no-stream``      ignores ``stream`` and always answers with one JSON body
``unauthorized``   401 (also any model when the server has an ``api_key`` and the request's differs)
``forbidden``      403; ``missing`` 404; ``busy`` 429; ``broken`` 500
``cut``            streams half of the answer, then drops the connection without ``[DONE]``
``stall``          sends the first piece, then waits ``stall_seconds`` (default 30) before the rest
``slow``           spreads the answer over ``slow_seconds`` (default 20)
``empty``          a stream with no content, then ``[DONE]``
``malformed``      a stream of lines that are not JSON
``long``           a very long answer (``long_chars``, default 50,000 characters)
``grader``         answers with a JSON grading of the rubric (``{"criteria": [...], "summary": ...}``)
=================  ==========================================================================================

Each request is recorded in ``server.requests`` (path, headers, body), and the time each piece of an
answer was written in ``server.sent`` ((model, monotonic time, text)), so a benchmark can measure how
long a token takes to reach a page.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = ("Here is a summary for the customer:\n- The delivery moves to Friday.\n- The price stays the same.\n"
          "- Support is available by phone.\n- We will confirm the date on Thursday.\n- Thank you for your patience.")


class FakeModelServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, api_key: str | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.api_key = api_key
        self.requests: list[dict] = []
        self.sent: list[tuple[str, float, str]] = []
        self.answer = ANSWER
        self.stall_seconds = 30.0
        self.slow_seconds = 20.0
        self.long_chars = 50_000
        self.pieces = 12  # how many pieces an answer is streamed in
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "FakeModelServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def record(self, **entry) -> None:
        with self._lock:
            self.requests.append(entry)

    def note_sent(self, model: str, text: str) -> None:
        with self._lock:
            self.sent.append((model, time.monotonic(), text))


def _pieces(text: str, count: int) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i:i + size] for i in range(0, len(text), size)]


def _usage(messages: list, answer: str) -> dict:
    prompt_tokens = max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)
    completion = max(1, len(answer) // 4)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion}


def _grading(messages: list) -> str:
    text = " ".join(str(m.get("content", "")) for m in messages)
    criteria = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("- [") and "]" in line:
            criteria.append({"check": line[3:line.index("]")], "met": True, "comment": "Clearly covered."})
    return json.dumps({"criteria": criteria, "summary": "A clear prompt; consider asking the model to flag uncertainty."})


class _Handler(BaseHTTPRequestHandler):
    server: FakeModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    # --- helpers ----------------------------------------------------------------------------------------
    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "fake_error", "code": status}})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, body: dict | str) -> None:
        payload = body if isinstance(body, str) else json.dumps(body)
        self._chunk(f"data: {payload}\n\n".encode())

    def _delta(self, model: str, text: str) -> None:
        self._event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})
        self.server.note_sent(model, text)

    # --- routes -----------------------------------------------------------------------------------------
    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            if not self._authorised():
                return self._error(401, "Incorrect API key provided.")
            return self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in (
                "ok", "no-usage", "no-stream", "slow", "grader")]})
        self._error(404, "Not found")

    def _authorised(self) -> bool:
        return self.server.api_key is None or self.headers.get("Authorization") == f"Bearer {self.server.api_key}"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._error(400, "Invalid JSON")
        self.server.record(path=self.path, headers=dict(self.headers), body=body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._error(404, "Not found")
        model = str(body.get("model", ""))
        if not self._authorised() or model == "unauthorized":
            return self._error(401, "Incorrect API key provided.")
        statuses = {"forbidden": 403, "missing": 404, "busy": 429, "broken": 500}
        if model in statuses:
            return self._error(statuses[model], f"fake {statuses[model]}")
        messages = body.get("messages") or []
        answer = {"long": "word " * (self.server.long_chars // 5), "empty": "", "grader": _grading(messages)}.get(
            model, self.server.answer)
        usage = _usage(messages, answer) if model != "no-usage" else None
        if not body.get("stream") or model == "no-stream":
            reply = {"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}]}
            if usage:
                reply["usage"] = usage
            self.server.note_sent(model, answer)
            return self._json(200, reply)
        self._stream(model, answer, usage if (body.get("stream_options") or {}).get("include_usage") else None)

    def _stream(self, model: str, answer: str, usage: dict | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if model == "malformed":
                for line in ("data: {not json", "data: <html>", "data: ]]"):
                    self._chunk(f"{line}\n\n".encode())
                    time.sleep(0.01)
                self._event("[DONE]")
                self._chunk(b"")
                return
            pieces = _pieces(answer, self.server.pieces) if answer else []
            if model == "cut":
                for piece in pieces[: len(pieces) // 2]:
                    self._delta(model, piece)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops: no [DONE], no final chunk
                self.close_connection = True
                return
            pause = self.server.slow_seconds / max(1, len(pieces)) if model == "slow" else 0.0
            for index, piece in enumerate(pieces):
                self._delta(model, piece)
                if model == "stall" and index == 0:
                    time.sleep(self.server.stall_seconds)
                elif pause:
                    time.sleep(pause)
            final = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self._event(final)
            if usage:
                self._event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": [],
                             "usage": usage})
            self._event("[DONE]")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client went away (a cancel or a timeout)


def start_fake_model(api_key: str | None = "sk-test-key") -> FakeModelServer:
    return FakeModelServer(api_key=api_key).start()
