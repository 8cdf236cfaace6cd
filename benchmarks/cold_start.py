"""Cold start and memory: the ``rag`` command in fresh processes, and what its imports cost.

``rag ask`` is timed from process start to exit (its first and only answer), with its CPU time and
peak RSS (the child's own ``VmHWM``). ``python -X importtime`` shows
which packages the start-up time goes to, summed per top-level package (self times add up; nested
cumulative times would count twice).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.servers import VENV_BIN, child_env


def rag_command() -> list[str]:
    """The installed ``rag`` console script, or ``python -m rag`` when it is missing."""
    script = VENV_BIN / "rag"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag"]


def timed_run(command: list[str], **env: str) -> dict:
    """Run ``command``; wall seconds, CPU seconds, peak RSS (MB), exit code and the head of its output.

    The peak is the child's own ``VmHWM``, polled while it runs: ``ru_maxrss`` of a child starts from
    the parent's high-water mark (Linux records the pre-exec address space), so it would report this
    benchmark's memory, not the command's.
    """
    peak_kb = 0
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=child_env(**env))
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    # CPU seconds are what load from other processes inflates least.
    return {"s": elapsed, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": peak_kb / 1024,
            "code": proc.returncode, "output": text[:300]}


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def measure_cold_start(data_dir: Path, question: str, runs: int, **env: str) -> dict:
    """``rag --data-dir D ask --no-llm QUESTION`` ``runs`` times (``env``: extra settings such as
    ``RAG_READER="on"``): median wall time and peak RSS."""
    results = [timed_run([*rag_command(), "--data-dir", str(data_dir), "ask", "--no-llm", question], **env)
               for _ in range(runs)]
    failed = [r for r in results if r["code"] != 0]
    if failed:
        raise RuntimeError(f"rag ask failed: {failed[0]['output']}")
    settings = "".join(f"{k}={v} " for k, v in env.items())
    return {
        "command": f"{settings}rag --data-dir DIR ask --no-llm {question!r}",
        "runs_s": [round(r["s"], 3) for r in results],
        "median_s": round(statistics.median(r["s"] for r in results), 3),
        "median_cpu_s": round(statistics.median(r["cpu_s"] for r in results), 3),
        "peak_rss_mb": round(max(r["rss_mb"] for r in results), 1),
        "answer_head": results[-1]["output"][:160],
    }


def measure_index(data_dir: Path, files: list[Path]) -> dict:
    """``rag --data-dir D index FILES`` once: wall time and peak RSS of indexing in a fresh process."""
    result = timed_run([*rag_command(), "--data-dir", str(data_dir), "index", *map(str, files)])
    if result["code"] != 0:
        raise RuntimeError(f"rag index failed: {result['output']}")
    return {"files": len(files), "s": round(result["s"], 3), "cpu_s": round(result["cpu_s"], 3),
            "peak_rss_mb": round(result["rss_mb"], 1)}


def import_profile(statement: str, top: int = 8, label: str | None = None) -> dict:
    """``python -X importtime -c STATEMENT``: total import time and the packages it goes to."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True,
                          env=child_env(), check=True)
    per_package: dict[str, int] = defaultdict(int)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, _cumulative, name = line.split("|", 2)
        per_package[name.strip().split(".")[0]] += int(head.split(":", 1)[1])
    total = sum(per_package.values())
    ranked = sorted(per_package.items(), key=lambda item: -item[1])[:top]
    return {"statement": label or statement, "total_s": round(total / 1e6, 3),
            "top": [{"package": p, "s": round(us / 1e6, 3)} for p, us in ranked]}
