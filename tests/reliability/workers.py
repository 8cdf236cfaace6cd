"""Child processes for the multi-process tests and the soak: each opens its own ``Assistant`` on a shared
data directory and talks JSON lines, so the parent sees what a separate program would.

    python -m tests.reliability.workers ask DATA_DIR      # one question per stdin line -> one JSON answer line
    python -m tests.reliability.workers churn DATA_DIR FOLDER SECONDS [REMOVALS]   # add/remove files

``ask`` prints ``{"ready": true}`` once open, then for each question ``{"question", "started", "text",
"citations": [{source, start, end, quote}], "error"}``; ``churn`` prints ``{"added"|"removed": name, "at"}``
with wall-clock times, then ``{"done": true}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def churn_text(i: int) -> str:
    """The text of the writer's ``i``-th file: one station with facts no other file shares."""
    return (f"The Varga-{i} research station was founded in {1800 + i} by the explorer Ilse Varga. "
            f"It hosts {20 + i} scientists who study glaciers. Its radio call sign is VRG{i:03d}.\n")


def churn_name(i: int) -> str:
    return f"churn_{i:03d}.txt"


def answer_record(question: str, started: float, answer=None, error: str | None = None) -> dict:
    citations = [{"source": c.source, "start": c.start, "end": c.end, "quote": c.quote}
                 for c in (answer.citations if answer is not None else [])]
    return {"question": question, "started": started, "text": answer.text if answer is not None else None,
            "citations": citations, "error": error}


def ask(data_dir: str) -> int:
    from rag import Assistant

    assistant = Assistant(data_dir=data_dir)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        question = line.strip()
        if not question:
            break
        started = time.time()
        try:
            record = answer_record(question, started, assistant.ask(question))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails on any
            record = answer_record(question, started, error=f"{type(exc).__name__}: {exc}")
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def churn(data_dir: str, folder: str, seconds: float, removals: float = 0) -> int:
    """Add a new file, and once three are live remove the oldest, until ``seconds`` have passed and at
    least ``removals`` files were removed."""
    from rag import Assistant

    assistant = Assistant(data_dir=data_dir)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    live: list[str] = []
    deadline = time.monotonic() + seconds
    i = 0
    removed = 0
    while time.monotonic() < deadline or removed < removals:
        name = churn_name(i)
        (root / name).write_text(churn_text(i), encoding="utf-8")
        report = assistant.add([root / name], waiting=lambda pid: None)
        if report.added != [name]:
            print(json.dumps({"error": f"adding {name}: {report.summary()} {report.failed}"}), flush=True)
            return 1
        print(json.dumps({"added": name, "at": time.time()}), flush=True)
        live.append(name)
        if len(live) > 2:
            oldest = live.pop(0)
            if not assistant.remove(oldest):
                print(json.dumps({"error": f"{oldest} was not indexed"}), flush=True)
                return 1
            print(json.dumps({"removed": oldest, "at": time.time()}), flush=True)
            removed += 1
        i += 1
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit(ask(*rest) if command == "ask" else churn(rest[0], rest[1], *map(float, rest[2:])))
