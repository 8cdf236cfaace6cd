"""What the reliability tests measure with: an index consistency check that reads SQLite and Chroma directly,
the index state a failure must not change, file-tree snapshots, a ``rag`` subprocess runner, and a Chroma
server these tests may kill.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tests.pdf import make_pdf

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
VENV_BIN = Path(sys.executable).parent
RAG = VENV_BIN / "rag"
META = "002_260f1e49892e43cf.txt"
META_QUESTION = "Who led the Meta delegation?"
SECRET = "sk-test-SECRET123"


# -- what the index holds ---------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexState:
    """Everything a failed operation must leave unchanged: the listed documents and both indexes' sizes."""

    documents: tuple
    chunks: int
    chunk_vectors: int
    sentence_vectors: int
    keyword_rows: int


def index_state(assistant) -> IndexState:
    collections = _chroma(assistant.settings)
    with _catalog(assistant.settings) as conn:
        keyword_rows = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    return IndexState(tuple(assistant.documents()), assistant.status()["chunks"], collections[0].count(),
                      collections[1].count(), keyword_rows)


def index_problems(settings, allow_unfinished: bool = False) -> list[str]:
    """What is inconsistent between the catalog (documents, chunks, FTS5 keywords) and Chroma (chunk and
    sentence vectors), read with fresh connections; empty list = consistent.

    Every ready document must have exactly the chunks its text cuts into, each with its vector, a vector
    per sentence and its keyword rows. Vectors of documents that are not ready are a problem unless
    ``allow_unfinished`` (what a crash leaves before the next ingest repairs it; readers never see them).
    """
    from index.chunking import chunk_document
    from index.documents import Document

    problems = []
    with _catalog(settings) as conn:
        rows = conn.execute("SELECT source, text, language, state FROM documents").fetchall()
        stored = {}
        for cid, source, start, end, text in conn.execute('SELECT id, source, start, "end", text FROM chunks'):
            stored.setdefault(source, {})[cid] = (start, end, text)
        try:  # rank 1: also check the FTS5 index against its content table, row by row
            conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"keyword index disagrees with the chunks table: {exc}")
    chunk_ids, sentence_ids = (set(c.get(include=[])["ids"]) for c in _chroma(settings))
    expected_chunks: set[str] = set()
    expected_sentences: set[str] = set()
    for source, text, language, state in rows:
        if state != "ready":
            if not allow_unfinished:
                problems.append(f"{source} is left {state!r}")
            continue
        document = Document(source=source, text=text, title="", language=language, sha256="")
        chunks = chunk_document(document, settings.chunk_chars)
        if stored.get(source, {}) != {c.id: (c.start, c.end, c.text) for c in chunks}:
            problems.append(f"{source}: the catalog's chunks are not the ones its text cuts into")
        expected_chunks |= {c.id for c in chunks}
        expected_sentences |= {f"{c.id}@{s}" for c in chunks for s, _ in c.sentences}
    if missing := expected_chunks - chunk_ids:
        problems.append(f"ready chunks without a vector: {sorted(missing)[:5]}")
    if missing := expected_sentences - sentence_ids:
        problems.append(f"ready sentences without a vector: {sorted(missing)[:5]}")
    unfinished = {source for source, _, _, state in rows if state != "ready"}
    for kind, ids, expected in (("chunk", chunk_ids, expected_chunks), ("sentence", sentence_ids, expected_sentences)):
        extra = ids - expected
        owners = {i.split("::", 1)[0] for i in extra}
        if extra and not (allow_unfinished and owners <= unfinished):
            problems.append(f"{kind} vectors of no ready document: {sorted(extra)[:5]}")
    return problems


def _catalog(settings) -> closing[sqlite3.Connection]:
    """A separate connection to the catalog file (as another process would open it)."""
    return closing(sqlite3.connect(str(settings.catalog_path), isolation_level=None, timeout=30))


def _chroma(settings):
    """The chunk and sentence collections, through a chromadb client of their own."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    else:
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    return client.get_collection(settings.collection), client.get_collection(f"{settings.collection}_sentences")


# -- files ------------------------------------------------------------------------------------------
def tree(*roots: Path, exclude: Path | None = None) -> dict[str, tuple[int, int]]:
    """``path -> (size, mtime_ns)`` of every file and folder under ``roots``, except below ``exclude``."""
    found = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if exclude is not None and Path(dirpath).resolve().is_relative_to(exclude.resolve()):
                dirnames.clear()
                continue
            for name in dirnames + filenames:
                path = Path(dirpath, name)
                if exclude is not None and path.resolve() == exclude.resolve():
                    continue
                stat = path.lstat()
                found[str(path)] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return found


def scan_pdf() -> bytes:
    """A valid one-page PDF with a drawing and no text operators: what a scan without OCR looks like."""
    return make_pdf([])


# -- the CLI as a user runs it ----------------------------------------------------------------------
class Cli:
    """Runs ``rag --data-dir DIR ...`` from ``cwd`` with a guarded environment and a private HOME."""

    def __init__(self, data_dir: Path, cwd: Path, env: dict[str, str], log: Path):
        self.data_dir, self.cwd, self.env, self.log = data_dir, cwd, env, log

    def __call__(self, *args: str, timeout: float = 300, env: dict[str, str] | None = None):
        result = subprocess.run([str(RAG), "--data-dir", str(self.data_dir), *args], cwd=self.cwd,
                                env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        assert not self.log.exists(), f"`rag {' '.join(args)}` tried to reach the network:\n{self.log.read_text()}"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def popen(self, *args: str, out: Path) -> subprocess.Popen:
        with out.open("wb") as handle:
            return subprocess.Popen([str(RAG), "--data-dir", str(self.data_dir), *args], cwd=self.cwd, env=self.env,
                                    stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


# -- a Chroma server these tests own (and may kill) --------------------------------------------------
class ChromaProcess:
    """``chroma run`` on a fixed loopback port and folder, so it can be killed and started again."""

    def __init__(self, path: Path, port: int, env: dict[str, str]):
        self.path, self.port, self.env = path, port, env
        self.log = path.parent / f"chroma_{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ChromaProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"chroma not ready on port {self.port}:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-request, as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


# -- an LLM endpoint that misbehaves in ways tests/rag/scripted_llm.py does not ------------------------
class BrokenLLM:
    """A loopback OpenAI-style endpoint: ``truncate`` streams ``reply`` and then drops the connection
    before the stream ends (inside a chunked HTTP/1.1 body, or, with ``chunked=False``, an HTTP/1.0 body
    that a closed connection ends as if complete); ``echo401`` refuses with a body that repeats the
    caller's API key, as a careless proxy would. ``keys`` records every Authorization header received."""

    def __init__(self, mode: str, reply: str = "", chunked: bool = True):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.mode, self.reply, self.keys = mode, reply, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if chunked else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def send(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Authorization", "")
                owner.keys.append(key)
                if owner.mode == "echo401":
                    body = json.dumps({"error": {"message": f"Incorrect API key provided: {key}"}}).encode()
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "broken",
                         "choices": [{"index": 0, "delta": {"content": owner.reply}, "finish_reason": None}]}
                self.send(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.send(b'data: {"id": "x", "object": "chat.completion.chunk", "choi')
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # gone mid-event: no [DONE], no finish_reason

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
