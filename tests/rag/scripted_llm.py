"""A real OpenAI-compatible HTTP server on loopback whose replies are scripted by the test.

It speaks the chat-completions protocol (streamed as server-sent events or whole), so the client,
streaming, parsing and fallbacks are exercised for real; only the model's words are chosen by the test.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedLLM:
    """``reply`` is the text the next completions return; ``mode`` is 'ok', 'garbage', 'slow' or 'error'.

    A streamed reply goes out one word per event. With ``hold_after`` set to n, the server stops after
    n words until ``resume`` is set, so a test can look at what the client did with the first n words
    while the rest is provably not sent yet; ``sent`` counts the words of the current reply written so far.
    """

    def __init__(self):
        self.reply = ""
        self.mode = "ok"
        self.delay = 0.0
        self.hold_after: int | None = None
        self.resume = threading.Event()
        self.sent = 0
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.requests.append(body)
                if owner.mode == "slow":
                    time.sleep(owner.delay)
                if owner.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "boom"}}')
                    return
                if owner.mode == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b"data: this is not json\n\n")
                    return
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    words = owner.reply.split(" ")
                    owner.sent = 0
                    for i, word in enumerate(words):
                        if i == owner.hold_after:
                            owner.resume.wait(timeout=60)
                        piece = word if i == 0 else " " + word
                        self.wfile.write(b"data: " + json.dumps(_chunk(piece)).encode() + b"\n\n")
                        self.wfile.flush()
                        owner.sent = i + 1
                    self.wfile.write(b"data: " + json.dumps(_chunk(None, "stop")).encode() + b"\n\n")
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                payload = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": "scripted",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": owner.reply},
                                 "finish_reason": "stop"}],
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def _chunk(content, finish=None):
    delta = {} if content is None else {"content": content}
    return {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
