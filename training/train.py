"""Train the answer reader (torch, CPU): the upper layers and heads of ``training.model`` on cached lower states.

One step = ``--groups`` groups (``training.data``) of up to 8 sentences. Per group, with ``null`` = the mean of its
pairs' null logits:

- listwise: softmax cross-entropy over ``[score_1 .. score_n, null]``, the target the answer sentence or null;
- pointwise: ``0.5`` x binary cross-entropy of ``sigmoid(score_i - null)`` against "sentence i answers";
- span: ``0.5`` x cross-entropy of the start and end token of the answer in the answer sentence.

AdamW (weight decay 0.01): the joint layers at ``--lr``, the heads at ``--head-lr``, the cross-text gates at
``--gate-lr``; 5% linear warm-up, then linear decay to 0 at ``--steps``; ``--minutes`` is a safety stop. Every
``--eval-every`` steps a seeded dev sample (``--dev-per-pair``) is scored and the best checkpoint by
mean P@1 of the blend + mean answerability AUROC of the reader is kept (``best.pt``). fp32 (bf16 is 13x
slower on these CPUs), seed 13.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from training import data
from training.model import Upper
from training.states import States

SEED = 13


def span_tokens(offsets: list[tuple[int, int]], span: tuple[int, int]) -> tuple[int, int] | None:
    """The first and last sentence token covering the answer's characters ``span``, or None if cut off."""
    a0, a1 = span
    start = next((j for j, (a, b) in enumerate(offsets) if b > a and b > a0), None)
    end = next((j for j in range(len(offsets) - 1, -1, -1) if offsets[j][1] > offsets[j][0] and offsets[j][0] < a1),
               None)
    if start is None or end is None or end < start:
        return None
    return start, end


class Batcher:
    """Groups -> joint upper-layer inputs: per pair the question's states then the sentence's."""

    def __init__(self, states: States):
        self.st = states

    def pairs(self, question: str, sentences: tuple[str, ...]):
        q = self.st.key(question, True)
        return [(q, self.st.key(s, False)) for s in sentences]

    def tensors(self, pairs: list[tuple[int, int]]):
        st = self.st
        width = max(len(st.ids[q]) + len(st.ids[s]) for q, s in pairs)
        h = st.states[0].shape[1]
        x = np.zeros((len(pairs), width, h), dtype=np.float32)
        mask = np.zeros((len(pairs), width), dtype=np.int64)
        seg = np.zeros((len(pairs), width), dtype=np.int64)
        for i, (q, s) in enumerate(pairs):
            nq, ns = len(st.ids[q]), len(st.ids[s])
            x[i, :nq] = st.states[q]
            x[i, nq:nq + ns] = st.states[s]
            mask[i, : nq + ns] = 1
            seg[i, :nq] = 1
        return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(seg)


def group_loss(model: Upper, batcher: Batcher, groups: list[data.Group]) -> tuple[torch.Tensor, dict]:
    pairs, sizes = [], []
    for g in groups:
        p = batcher.pairs(g.question, g.sentences)
        pairs += p
        sizes.append(len(p))
    x, mask, seg = batcher.tensors(pairs)
    score, null, start, end = model(x, mask, seg)
    listwise, pointwise, spans = [], [], []
    k = 0
    for g, n in zip(groups, sizes):
        s = score[k:k + n]
        ng = null[k:k + n].mean()
        target = n if g.target is None else g.target
        listwise.append(F.cross_entropy(torch.cat([s, ng[None]])[None], torch.tensor([target])))
        labels = torch.zeros(n)
        if g.target is not None:
            labels[g.target] = 1.0
        pointwise.append(F.binary_cross_entropy_with_logits(s - ng, labels))
        if g.target is not None and g.span is not None:
            q, sid = pairs[k + g.target]
            tokens = span_tokens(batcher.st.offsets[sid], g.span)
            if tokens is not None:
                nq = len(batcher.st.ids[q])
                row = k + g.target
                spans.append(F.cross_entropy(start[row][None], torch.tensor([nq + tokens[0]]))
                             + F.cross_entropy(end[row][None], torch.tensor([nq + tokens[1]])))
        k += n
    lw, pw = torch.stack(listwise).mean(), torch.stack(pointwise).mean()
    sp = torch.stack(spans).mean() / 2 if spans else score.sum() * 0
    loss = lw + 0.5 * pw + 0.5 * sp
    return loss, {"listwise": lw.item(), "pointwise": pw.item(), "span": sp.item()}


# -- dev ----------------------------------------------------------------------------------------
def auroc(pos: list[float], neg: list[float]) -> float:
    s = np.array(pos + neg, dtype=np.float64)
    ranks = s.argsort(kind="stable").argsort() + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-6) if len(x) > 1 else np.zeros_like(x)


def read(model: Upper, batcher: Batcher, question: str, texts: tuple[str, ...]) -> tuple[np.ndarray, float]:
    """Scores of ``texts`` and the group's P(answer) = 1 - softmax null."""
    with torch.no_grad():
        x, mask, seg = batcher.tensors(batcher.pairs(question, texts))
        score, null, _, _ = model(x, mask, seg)
        logits = torch.cat([score, null.mean()[None]])
        p_answer = 1.0 - torch.softmax(logits, 0)[-1].item()
    return score.numpy().astype(np.float64), p_answer


def evaluate(model: Upper, batcher: Batcher, items: list[data.DevItem]) -> dict:
    """Per pair: P@1 of cosine / reader / z-blend, and answerability AUROC of max cosine and of the reader."""
    model.eval()
    out: dict = {}
    for pair in sorted({it.pair for it in items}):
        sub = [it for it in items if it.pair == pair]
        hits = {"cosine": [], "reader": [], "blend": []}
        ans = {"cosine": ([], []), "reader": ([], [])}
        for it in sub:
            r, p = read(model, batcher, it.question, it.texts)
            c = np.array(it.cos)
            for name, s in (("cosine", c), ("reader", r), ("blend", z(r) + z(c))):
                hits[name].append(int(np.argmax(s)) == it.target)
            ans["cosine"][0].append(float(c.max()))
            ans["reader"][0].append(p)
            if it.removed_texts:
                _, pr = read(model, batcher, it.question, it.removed_texts)
                ans["cosine"][1].append(float(max(it.removed_cos)))
                ans["reader"][1].append(pr)
        out[pair] = {"n": len(sub), **{f"p1_{k}": round(float(np.mean(v)), 3) for k, v in hits.items()},
                     **{f"auroc_{k}": round(auroc(*v), 3) for k, v in ans.items()}}
    model.train()
    return out


def objective(result: dict) -> float:
    pairs = list(result.values())
    return float(np.mean([p["p1_blend"] for p in pairs]) + np.mean([p["auroc_reader"] for p in pairs]))


# -- training -----------------------------------------------------------------------------------
def train(upper: Upper, states: States, train_corpus: data.Corpus, dev: list[data.DevItem], args) -> dict:
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    out = Path(args.out)
    batcher = Batcher(states)
    opt = torch.optim.AdamW([
        {"params": list(upper.layers.parameters()), "lr": args.lr},
        {"params": upper.head_params(), "lr": args.head_lr, "weight_decay": 0.0},
        {"params": [upper.gate], "lr": args.gate_lr, "weight_decay": 0.0},
    ], weight_decay=0.01)
    total = args.steps
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / total))
    log = open(out / "log.jsonl", "a")
    before = evaluate(upper, batcher, dev)
    print("dev before:", json.dumps(before), flush=True)
    log.write(json.dumps({"step": 0, "dev": before}) + "\n")
    best, best_step = objective(before), 0
    torch.save(upper.state_dict(), out / "best.pt")
    step, epoch, start = 0, 0, time.time()
    deadline = start + args.minutes * 60
    seen = 0
    upper.train()
    while step < total and time.time() < deadline:
        epoch_groups = data.training_groups(train_corpus, states, rng, args.removed, args.unanswerable,
                                            args.english_contexts)
        epoch += 1
        print(f"epoch {epoch}: {len(epoch_groups)} groups", flush=True)
        for i in range(0, len(epoch_groups) - args.groups + 1, args.groups):
            loss, parts = group_loss(upper, batcher, epoch_groups[i:i + args.groups])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(upper.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            seen += args.groups
            if step % 20 == 0:
                rec = {"step": step, "epoch": round(epoch - 1 + (i + args.groups) / len(epoch_groups), 3),
                       "loss": round(loss.item(), 4), **{k: round(v, 4) for k, v in parts.items()},
                       "gate": round(upper.gate.mean().item(), 3), "elapsed_s": round(time.time() - start, 1)}
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(rec, flush=True)
            if step % args.eval_every == 0 or step >= total:
                result = evaluate(upper, batcher, dev)
                score = objective(result)
                log.write(json.dumps({"step": step, "dev": result, "objective": round(score, 4)}) + "\n")
                print(f"dev at {step}: {json.dumps(result)} objective {score:.4f} (best {best:.4f} at {best_step})",
                      flush=True)
                if score > best:
                    best, best_step = score, step
                    torch.save(upper.state_dict(), out / "best.pt")
                torch.save(upper.state_dict(), out / "last.pt")
            if step >= total or time.time() >= deadline:
                break
    torch.save(upper.state_dict(), out / "last.pt")
    wall = time.time() - start
    return {"steps": step, "epochs": round(seen / max(1, len(epoch_groups)), 2), "wall_s": round(wall),
            "best_step": best_step, "best_objective": round(best, 4)}
