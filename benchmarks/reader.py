"""The answer reader's cost: milliseconds per question for 20 and 30 candidate sentences, and the memory its
model adds, measured in a fresh child process so the numbers are the reader's alone.

    python -m benchmarks.reader [--questions 30]      # prints the JSON that ``python -m benchmarks`` records

Candidates are real sentences of the seed documents (``seeds/``), as many as a question would bring; the
questions are real questions (the benchmark corpus's). The first question is timed apart: it loads the model.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.latency import summary_ms
from benchmarks.servers import child_env

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
COUNTS = (20, 30)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed_sentences() -> list[str]:
    from index.chunking import split_sentences

    out = []
    for path in sorted(SEEDS.iterdir()):
        text = path.read_text(encoding="utf-8")
        out += [text[a:b] for a, b in split_sentences(text) if len(text[a:b].split()) >= 4]
    return out


def measure(questions: list[str], threads: int = 2) -> dict:
    """In this process: load the reader, then time ``questions`` against 20 and 30 candidates each."""
    from rag.reader.reader import AnswerReader

    sentences = seed_sentences()
    reader = AnswerReader(threads)
    if not reader.installed:
        return {"installed": False}
    before = _rss_mb()
    t0 = time.perf_counter()
    reader.run(questions[0], sentences[:20])
    first_s = time.perf_counter() - t0
    loaded = _rss_mb()
    result = {"installed": True, "first_question_s": round(first_s, 3), "rss_before_mb": round(before, 1),
              "rss_added_by_model_mb": round(loaded - before, 1), "questions": len(questions)}
    for count in COUNTS:
        times = []
        for i, question in enumerate(questions):
            start = (i * 7) % max(1, len(sentences) - count)
            t = time.perf_counter()
            reader.run(question, sentences[start:start + count])
            times.append(time.perf_counter() - t)
        result[f"candidates_{count}"] = summary_ms(times)
    result["peak_rss_mb"] = round(_rss_mb(), 1)
    result["rss_added_mb"] = round(result["peak_rss_mb"] - before, 1)
    return result


def measure_in_child(questions: list[str]) -> dict:
    """``measure`` in a fresh interpreter (imports and model memory counted from a clean start)."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.reader", "--questions-json", json.dumps(questions)],
                          capture_output=True, text=True, env=child_env(), timeout=1800,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.reader failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reader", description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=30, help="how many seed-style questions (default 30)")
    parser.add_argument("--questions-json", help="the questions, as a JSON list (what python -m benchmarks passes)")
    args = parser.parse_args(argv)
    if args.questions_json:
        questions = json.loads(args.questions_json)
    else:
        from benchmarks.corpus import build_corpus
        import tempfile

        with tempfile.TemporaryDirectory() as work:
            corpus = build_corpus(Path(work), None, 8, max(1, args.questions // 2), 0)
            questions = [q.text for q in corpus.questions][: args.questions]
    print(json.dumps(measure(questions)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
