"""``python -m ui``: loopback by default; any other address needs --auth; bad arguments and a busy port exit 2 with
one line, before anything is loaded; serving prints one line and logs refused ``/chat`` calls in one line."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctrl_c import takes_ctrl_c

from ui.__main__ import _is_loopback, main


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.0.2.10", False)])
def test_only_loopback_hosts_count_as_local(host, loopback):
    assert _is_loopback(host) is loopback


def test_non_loopback_host_without_auth_is_refused(capsys):
    assert main(["--host", "0.0.0.0"]) == 2
    assert "--auth" in capsys.readouterr().err


@pytest.mark.parametrize("auth", ["nocolon", ":password", "user:"])
def test_malformed_auth_is_refused(auth, capsys):
    assert main(["--host", "0.0.0.0", "--auth", auth]) == 2
    assert "user:password" in capsys.readouterr().err


# -- the port, checked before any work; the console while serving -------------------------------------
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something listens on for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield server.getsockname()[1]


def _one_port_error(stderr: str, port: int) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: port {port} on 127.0.0.1 is already in use"), stderr
    assert f"make run PORT={port + 1}" in lines[0] and f"RAG_UI_PORT={port + 1}" in lines[0], stderr


@pytest.mark.parametrize("how", ["--port", "RAG_UI_PORT"])
def test_a_busy_port_is_refused_before_loading_or_indexing_anything(how, busy_port, tmp_path, subprocess_env):
    data_dir = tmp_path / "data"
    args = ["--port", str(busy_port)] if how == "--port" else []
    env = subprocess_env(**({"RAG_UI_PORT": str(busy_port)} if how == "RAG_UI_PORT" else {}))
    result = subprocess.run([sys.executable, "-m", "ui", "--data-dir", str(data_dir), "--index", str(ROOT / "seeds"),
                             *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    _one_port_error(result.stderr, busy_port)
    assert not data_dir.exists(), "nothing was loaded or indexed before the port was checked"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def _outside_make() -> dict[str, str]:
    """The environment without what an enclosing `make test` passes down (MAKELEVEL turns `make:` into
    `make[1]:` and MAKEFLAGS carries its options): a user's `make run` from a shell."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def test_make_run_on_a_busy_port_fails_before_installing(busy_port, tmp_path):
    # A fresh clone as far as `make run` can tell: the Makefile and the UI package, no .venv yet.
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copytree(ROOT / "ui", tmp_path / "ui", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(["make", "run", f"PORT={busy_port}"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env=_outside_make())
    assert result.returncode != 0
    _one_port_error("\n".join(x for x in result.stderr.splitlines() if not x.startswith("make: ***")), busy_port)
    assert not (tmp_path / ".venv").exists(), "nothing was installed"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("args", "env", "port"), [(["PORT=7861"], {}, "7861"), ([], {"RAG_UI_PORT": "7862"}, "7862"),
                                                   ([], {"PORT": "3000"}, "7860")])
def test_make_run_passes_its_port_to_the_ui(args, env, port):
    result = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**{k: v for k, v in _outside_make().items() if k not in ("PORT", "RAG_UI_PORT")},
                                 **env})
    assert f"-m ui.ports 127.0.0.1 {port}" in result.stdout and f"RAG_UI_PORT={port} " in result.stdout


@pytest.mark.slow
def test_serves_quietly_on_rag_ui_port_and_logs_a_refused_chat_in_one_line(seeded_dir, tmp_path, subprocess_env,
                                                                            loopback_port):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    port = loopback_port()
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "ui", "--data-dir", str(data_dir)], cwd=ROOT, stdout=stdout,
                                stderr=stderr, stdin=subprocess.DEVNULL, env=subprocess_env(RAG_UI_PORT=str(port)),
                                preexec_fn=takes_ctrl_c)
    try:
        deadline = time.monotonic() + 180
        while "Serving on" not in out.read_text() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert out.read_text().splitlines() == [f"Serving on http://127.0.0.1:{port} (local only); Ctrl-C to stop"], \
            (out.read_text(), err.read_text())
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        with pytest.raises(AppError, match="the question is empty"):
            client.predict("   ", [], api_name="/chat")
        assert "Rafael Frankel" in client.predict("Who led the Meta delegation?", [], api_name="/chat")["text"]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 130
    console = out.read_text() + err.read_text()
    assert "share=True" not in console and "Traceback" not in console, console
    warnings = [line for line in err.read_text().splitlines() if "WARNING" in line]
    assert warnings == ["WARNING ui.app: /chat refused: the question is empty; type a question"], err.read_text()
