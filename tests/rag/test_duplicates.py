"""rag/duplicates.py: the same text in two documents (an article saved as HTML and as PDF) is cited once, and the
citation names the other file; different texts, and repeats inside one document, are left alone."""

from __future__ import annotations

import re
import textwrap

import pytest

from rag.values import Passage
from rag.duplicates import CopyFilter
from tests.pdf import make_pdf

PARAGRAPHS = [
    "The Varga Bridge over the Lysa river was opened on 14 May 1998 by the mayor of Tromsø, Dr. Ilse Varga. "
    "It is 412 metres long and carries a tram line and two cycle lanes.",
    "Its construction took four years and cost 38 million euros, a third more than planned, because the river "
    "bed had to be drained twice after the spring floods of 1995.",
    "Since 2010 the bridge has been lit at night by 1,200 lamps powered by a small hydroelectric plant upstream. "
    "About 9,000 cyclists cross it on a summer weekday.",
]


def passage(source: str, text: str, score: float, start: int = 0) -> Passage:
    return Passage(chunk_id=f"{source}::{start}", source=source, start=start, end=start + len(text), text=text,
                   language="en", score=score)


def test_a_copy_in_another_file_is_dropped_and_named():
    html = passage("bridge.html", PARAGRAPHS[0] + " " + PARAGRAPHS[1], 0.9)
    # The PDF's text layer: other line breaks, and its chunk starts one sentence later.
    pdf_text = "\n".join(textwrap.wrap(PARAGRAPHS[0].split(". ", 1)[1] + " " + PARAGRAPHS[1], 70))
    pdf = passage("bridge.pdf", pdf_text, 0.89)
    other = passage("lamps.txt", PARAGRAPHS[2], 0.5)
    kept = CopyFilter().run([html, pdf, other])
    assert [p.source for p in kept] == ["bridge.html", "lamps.txt"]
    assert kept[0].also_in == ("bridge.pdf",) and kept[1].also_in == ()


def test_different_texts_and_repeats_within_one_document_are_kept():
    first = passage("bridge.html", PARAGRAPHS[0], 0.9)
    repeat = passage("bridge.html", PARAGRAPHS[0], 0.8, start=2000)
    different = passage("bridge.pdf", PARAGRAPHS[1], 0.7)
    assert CopyFilter().run([first, repeat, different]) == [first, repeat, different]


def test_a_passage_sharing_one_sentence_is_not_a_copy():
    quoted = passage("review.txt", PARAGRAPHS[1] + " " + PARAGRAPHS[2], 0.8)
    assert len(CopyFilter().run([passage("bridge.html", PARAGRAPHS[0] + " " + PARAGRAPHS[2][:60], 0.9), quoted])) == 2


@pytest.mark.slow
def test_the_same_article_as_html_and_pdf_is_cited_once(tmp_path, check_citations, capsys):
    from rag import Assistant
    from rag.cli import _print_stream
    from ui.render import sources_html

    docs = tmp_path / "docs"
    docs.mkdir()
    body = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
    (docs / "bridge.html").write_text(f"<html><head><title>The Varga Bridge</title></head><body>{body}</body></html>",
                                      encoding="utf-8")
    # One sentence a line, as an export of the page would set them: the sentences read the same in both files.
    lines = [line for p in PARAGRAPHS for line in [*re.split(r"(?<=\.) ", p), ""]]
    (docs / "report.pdf").write_bytes(make_pdf(lines, title="The Varga Bridge"))
    (docs / "ferry.txt").write_text("The old ferry across the Lysa stopped running in 1999, a year after the "
                                    "bridge opened. It had carried passengers since 1921.\n", encoding="utf-8")
    assistant = Assistant(data_dir=tmp_path / "data")
    try:
        assert sorted(assistant.add([docs]).added) == ["bridge.html", "ferry.txt", "report.pdf"]
        question = "When was the Varga Bridge opened?"
        # Retrieval finds both copies, each as good as the other; what is retrieved for answers is one of them.
        found = assistant.pipeline.retrieval.run(assistant.pipeline.question.run(question))
        assert {"bridge.html", "report.pdf"} <= {p.source for p in found}
        kept = [p for p in assistant.retrieve(question) if p.source in ("bridge.html", "report.pdf")]
        assert len(kept) == 1 and {kept[0].source, *kept[0].also_in} == {"bridge.html", "report.pdf"}

        answer = assistant.ask(question)
        check_citations(assistant, answer)
        assert not answer.abstained and answer.text.count("14 May 1998") == 1, answer.text
        cited = [c for c in answer.citations if c.source in ("bridge.html", "report.pdf")]
        assert len(cited) == 1, answer.citations
        other = {"bridge.html": "report.pdf", "report.pdf": "bridge.html"}[cited[0].source]
        assert cited[0].also_in == (other,)
        assert other not in {p.source for p in answer.passages}
        assert f"also in <code>{other}</code>" in sources_html(answer.citations, {}, turn=1)
        capsys.readouterr()
        _print_stream(assistant, question, [])  # what `rag ask` prints
        assert f"[1] {cited[0].source} ({cited[0].start}-{cited[0].end}) (also in {other}): " in capsys.readouterr().out
    finally:
        assistant.close()
