"""Separate processes on one data directory, as users run them: the UI (``python -m ui``) asked through
its ``/chat`` API, ``Assistant``s in child processes (tests/reliability/workers.py), and the checks
their answers must pass."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.reliability.harness import ROOT


class UiProcess:
    """``python -m ui --data-dir DIR --port PORT`` in a process of its own; ``chat`` calls ``/chat``."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str], log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "ui", "--data-dir", str(data_dir), "--port", str(port)],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"python -m ui exited with {self.proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            raise RuntimeError(f"python -m ui not ready:\n{log.read_text()[-3000:]}")
        from gradio_client import Client

        self._client = Client(self.url, verbose=False, download_files=False)

    def chat(self, question: str) -> dict:
        """An answer record like the workers' (see ``workers.answer_record``), ``error`` set on failure."""
        started = time.time()
        try:
            payload = self._client.predict(question, [], api_name="/chat")
        except Exception as exc:  # noqa: BLE001 - any failure is reported, and fails the caller
            return {"question": question, "started": started, "text": None, "citations": [],
                    "error": f"{type(exc).__name__}: {exc}"}
        citations = [{k: c[k] for k in ("source", "start", "end", "quote")} for c in payload["citations"]]
        return {"question": question, "started": started, "text": payload["text"], "citations": citations,
                "error": None}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


class AskerProcess:
    """An ``Assistant`` in a child process: ``ask`` sends one question and waits for its answer record."""

    def __init__(self, data_dir: Path, env: dict[str, str], log: Path):
        self.log = log
        self._err = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.workers", "ask", str(data_dir)],
                                     cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, encoding="utf-8")
        assert json.loads(self._line()) == {"ready": True}

    def ask(self, question: str) -> dict:
        self.proc.stdin.write(question.replace("\n", " ") + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the asker process ended:\n{self.log.read_text()[-3000:]}")
        return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._err.close()


def citation_errors(record: dict, texts: dict[str, str], removed_at: dict[str, float] | None = None) -> list[str]:
    """What is wrong with one answer record: an error, a quote that is not ``texts[source][start:end]``,
    or a citation of a document whose removal had finished before the question was asked."""
    if record["error"]:
        return [f"{record['question']!r}: {record['error']}"]
    problems = []
    for c in record["citations"]:
        if c["source"] not in texts or texts[c["source"]][c["start"] : c["end"]] != c["quote"]:
            problems.append(f"{record['question']!r}: {c['source']}[{c['start']}:{c['end']}] != {c['quote']!r}")
        removed = (removed_at or {}).get(c["source"])
        if removed is not None and removed < record["started"]:
            problems.append(f"{record['question']!r} was asked after {c['source']} was removed, and cites it")
    return problems
