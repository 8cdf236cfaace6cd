"""Soak: the UI and several ``Assistant`` processes ask questions while a writer process adds and removes
files, all on one embedded data directory. Every answer must come without error, every citation's quote
must be ``document_text(source)[start:end]`` of the text that name was indexed with, no question asked
after a removal finished may cite the removed file, and afterwards the catalog and Chroma agree.

    python -m tests.reliability.soak --seconds 300      # prints the numbers as JSON; exit 1 on any error

A short run is part of the test suite (test_soak.py); the long one is run by hand (not CI).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.reliability.harness import RAG, ROOT, SEEDS, index_problems
from tests.reliability.processes import AskerProcess, UiProcess, citation_errors
from tests.reliability.workers import churn_text

SEED_QUESTIONS = ["Who led the Meta delegation?", "Combien d'internautes compte le Cambodge ?",
                  "Hội nghị an ninh mạng ASEAN được tổ chức ở đâu?", "What was Meta's revenue in 2023?"]


def run_soak(data_dir: Path, workdir: Path, seconds: float, env: dict[str, str], readers: int = 4,
             removals: int = 0) -> dict:
    """Run the soak on ``data_dir`` (``seeds/`` already indexed) for ``seconds`` of writing and at least
    ``removals`` removed files; returns its numbers and every error."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir()}
    removed_at: dict[str, float] = {}
    added: list[str] = []
    writer_errors: list[str] = []
    records: list[tuple[str, dict]] = []
    ui = UiProcess(data_dir, _free_port(), env, workdir / "ui.log")
    askers: list[AskerProcess] = []
    try:
        askers = [AskerProcess(data_dir, env, workdir / f"asker{n}.log") for n in range(readers)]
        writer = subprocess.Popen([sys.executable, "-m", "tests.reliability.workers", "churn", str(data_dir),
                                   str(workdir / "churn"), str(seconds), str(removals)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        done = threading.Event()

        def watch_writer() -> None:
            for line in writer.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a progress or warning line from the writer
                if "added" in event:
                    added.append(event["added"])
                elif "removed" in event:
                    removed_at[event["removed"]] = event["at"]
                elif "error" in event:
                    writer_errors.append(event["error"])
            if writer.wait() != 0:
                writer_errors.append(f"the writer exited with {writer.returncode}")
            done.set()

        def ask_loop(name: str, ask, seed: int) -> None:
            rng = random.Random(seed)
            while not done.is_set():
                if added and rng.random() < 0.6:
                    i = int(added[rng.randrange(len(added))].removeprefix("churn_").removesuffix(".txt"))
                    question = f"When was the Varga-{i} research station founded?"
                else:
                    question = rng.choice(SEED_QUESTIONS)
                records.append((name, ask(question)))

        threads = [threading.Thread(target=watch_writer)]
        threads += [threading.Thread(target=ask_loop, args=(f"asker{n}", a.ask, n)) for n, a in enumerate(askers)]
        threads.append(threading.Thread(target=ask_loop, args=("ui", ui.chat, 99)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 600)
        hung = [t.name for t in threads if t.is_alive()]
    finally:
        ui.stop()
        for asker in askers:
            asker.stop()

    for name in added:
        texts[name] = churn_text(int(name.removeprefix("churn_").removesuffix(".txt")))
    errors = [f"hung: {hung}"] if hung else []
    errors += writer_errors
    for name, record in records:
        errors += [f"{name}: {problem}" for problem in citation_errors(record, texts, removed_at)]
    from index.catalog import Catalog
    from rag.settings import Settings

    settings = Settings(data_dir=data_dir)
    problems = index_problems(settings)
    catalog = Catalog(settings.catalog_path)
    listed = [d.source for d in catalog.documents()]
    catalog.close()
    if listed != sorted(texts.keys() - removed_at.keys()):
        problems.append(f"the catalog lists {listed}, not the seeds and the files still live")
    cited = [c["source"] for _, r in records for c in r["citations"]]
    return {
        "seconds": seconds,
        "asks": len(records),
        "asks_by_process": {name: sum(1 for n, _ in records if n == name) for name in sorted({n for n, _ in records})},
        "errors": errors,
        "citations_checked": len(cited),
        "churn_citations": sum(1 for s in cited if s.startswith("churn_")),
        "files_added": len(added),
        "files_removed": len(removed_at),
        "index_problems": problems,
        "live_at_end": sorted(set(added) - removed_at.keys()),
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--readers", type=int, default=4, help="Assistant processes asking (besides the UI)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, data directory)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rag-soak-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and not k.startswith("OPENAI_")}
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    data_dir = workdir / "data"
    subprocess.run([str(RAG), "--data-dir", str(data_dir), "index", str(SEEDS)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        stats = run_soak(data_dir, workdir, args.seconds, env, args.readers)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    stats["errors_count"] = len(stats["errors"])
    stats["errors"] = stats["errors"][:20]
    print(json.dumps(stats, indent=2, ensure_ascii=False))
    return 0 if not stats["errors_count"] and not stats["index_problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
