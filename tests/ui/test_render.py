"""ui/render.py: answers and citations in, chat markdown and sources HTML out; document text is always escaped."""

from __future__ import annotations

import dataclasses
import html
import re

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from index.catalog import DocumentInfo
from index.ingest import IngestReport
from rag.values import Answer, Citation, Claim
from ui.render import (
    CLOSEST_LABEL,
    anchor,
    answer_markdown,
    api_payload,
    context_window,
    document_rows,
    error_html,
    escape_markdown,
    ingest_markdown,
    near_anchor,
    sources_html,
    status_html,
)

DOC = ("Intro sentence about nothing in particular. " * 12
       + "The <b>Zorblax</b> Institute & friends was founded in 1987 by Dr. Ilse Varga. "
       + "Closing words follow here and there. " * 12)
QUOTE = "The <b>Zorblax</b> Institute & friends was founded in 1987 by Dr. Ilse Varga."
START = DOC.index(QUOTE)
CITATION = Citation(n=1, source="zorb<lax>.txt", start=START, end=START + len(QUOTE), quote=QUOTE,
                    title='Zorblax "history" <script>alert(1)</script>')


def marked(fragment: str) -> list[str]:
    """The texts inside ``<mark>`` as a browser shows them."""
    return [html.unescape(m.replace("<br>", "\n")) for m in re.findall(r"<mark>(.*?)</mark>", fragment, re.S)]


def test_highlighted_span_is_exactly_the_quote_in_its_context():
    out = sources_html([CITATION], {CITATION.source: DOC}, turn=1)
    assert marked(out) == [QUOTE]
    visible = html.unescape(re.sub(r"<[^>]+>", "", out.split('class="rag-context">')[1]))
    before, _, after = visible.partition(QUOTE)
    assert before.startswith("…") and after.endswith("…")
    assert 250 <= len(before) <= 302 and 250 <= len(after) <= 302
    assert DOC[START - len(before) + 1 : START] == before[1:]


def test_document_text_title_and_file_name_are_escaped():
    out = sources_html([CITATION], {CITATION.source: DOC}, turn=1, question="<img src=x onerror=alert(1)>")
    assert "<script" not in out and "<img" not in out and "<b>Zorblax</b> Institute" not in out
    assert "&lt;script&gt;" in out and "zorb&lt;lax&gt;.txt" in out and "&lt;b&gt;Zorblax&lt;/b&gt;" in out


def test_markers_link_to_the_anchors_of_their_source_cards():
    answer = Answer(question="q", claims=[Claim("Founded by Ilse Varga.", (1,)), Claim("Not a marker: [7].")],
                    abstained=False, citations=[CITATION])
    markdown = answer_markdown(answer, turn=3)
    assert f"(#{anchor(3, 1)})" in markdown
    # Text that looks like a marker is text: escaped, never linked.
    assert "#src-3-7" not in markdown and r"\[7\]" in markdown
    rendered = MarkdownIt("commonmark").render(markdown)
    assert f'<a href="#{anchor(3, 1)}">[1]</a>' in rendered
    assert f'id="{anchor(3, 1)}"' in sources_html(answer.citations, {CITATION.source: DOC}, turn=3)


def test_answer_text_renders_literally_never_as_html():
    answer = Answer(question="q", claims=[Claim("<img src=x onerror=alert(1)> *bold* `code`", (1,))], abstained=False,
                    citations=[CITATION])
    rendered = MarkdownIt("commonmark").render(answer_markdown(answer, turn=1))
    assert "<img" not in rendered and "<em>" not in rendered and "<code>" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt; *bold* `code`" in rendered


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_characters="\\"), max_size=60)
       | st.text(alphabet="\\`*_{}[]()#+-.!|~$<>&'\" ab1", max_size=40))
def test_escaped_markdown_shows_the_text_unchanged(text):
    text = text.strip()
    rendered = MarkdownIt("commonmark").render(escape_markdown(text))
    assert html.unescape(re.sub(r"</?p>", "", rendered)).strip() == text


def test_abstention_is_a_grey_box_without_links_and_notices_are_shown():
    answer = Answer(question="q", claims=[Claim("The documents don't say.")], abstained=True,
                    notice="The LLM endpoint is unreachable; showing the offline answer.")
    markdown = answer_markdown(answer, turn=1)
    assert '<div class="rag-abstain">' in markdown and "](#" not in markdown
    assert '<div class="rag-notice">' in markdown and "unreachable" in markdown
    assert "No sources" in sources_html([], {}, turn=1)


@given(st.text(min_size=1, max_size=400), st.data())
def test_context_window_reassembles_the_document(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    before, quote, after = context_window(text, start, end, chars=50)
    assert quote == text[start:end]
    assert (before.removeprefix("…") + quote + after.removesuffix("…")) in text


def test_removed_document_still_shows_its_quote():
    assert marked(sources_html([CITATION], {}, turn=1)) == [QUOTE]


def test_api_payload_and_tables_are_plain_json():
    answer = Answer(question="q", claims=[Claim("x", (1,))], abstained=False, citations=[CITATION], mode="extractive")
    payload = api_payload(answer)
    assert payload["citations"] == [{"n": 1, "source": CITATION.source, "start": START, "end": START + len(QUOTE),
                                     "quote": QUOTE, "title": CITATION.title, "also_in": []}]
    assert payload["closest"] == []
    assert (payload["text"], payload["abstained"], payload["mode"]) == ("x [1]", False, "extractive")
    info = DocumentInfo(source="a.txt", title="A", language="vi", date=None, sha256="0", chunks=3, chars=10,
                        added_at=0.0, id="a.txt", locator="/docs/a.txt")
    assert document_rows([info])[0][:5] == ["A", "a.txt", "vi", 3, ""]


def test_ingest_report_lists_failures_first_with_their_reason():
    report = IngestReport(added=["new.txt"], failed={"<x>.exe": "<x>.exe: unsupported file type '.exe'"})
    out = ingest_markdown(report)
    assert out.index("Not added") < out.index("Added")
    assert "<code>&lt;x&gt;.exe</code>" in out and "unsupported file type" in out and "<x>" not in out


def test_status_names_the_answer_mode_escaped():
    out = status_html({"mode": "llm (<m> at http://127.0.0.1:1/v1)", "embedder": "e", "vector_store": "v",
                       "documents": 5, "chunks": 43, "top_k": 5})
    assert "llm (&lt;m&gt; at http://127.0.0.1:1/v1)" in out and "5 documents, 43 chunks" in out


def test_errors_show_their_message_verbatim():
    out = error_html("the limit is 2000 (RAG_MAX_QUESTION_CHARS) <b>")
    assert 'class="rag-error"' in out and "(RAG_MAX_QUESTION_CHARS) &lt;b&gt;" in out


def test_reader_confidence_is_a_small_line_and_absent_when_the_reader_is_off():
    answer = Answer(question="q", claims=[Claim("x", (1,))], abstained=False, citations=[CITATION], confidence=0.874)
    assert '<div class="rag-confidence">reader confidence 87%</div>' in answer_markdown(answer, turn=1)
    assert api_payload(answer)["confidence"] == 0.874
    assert "rag-confidence" not in answer_markdown(dataclasses.replace(answer, confidence=None), turn=1)


# -- cards grouped by document; closest passages on an abstention ------------------------------------
SECOND = "Closing words follow here and there."
SECOND_AT = DOC.index(SECOND, START)


def test_cards_of_one_document_share_one_title():
    other = Citation(n=2, source="other.txt", start=0, end=5, quote="Other", title="Other document")
    again = Citation(n=3, source=CITATION.source, start=SECOND_AT, end=SECOND_AT + len(SECOND), quote=SECOND,
                     title=CITATION.title)
    out = sources_html([CITATION, other, again], {CITATION.source: DOC, "other.txt": "Other text."}, turn=2)
    assert out.count("Zorblax &quot;history&quot;") == 1 and out.count('class="rag-doc"') == 2
    # Grouped in order of first citation: [1] and [3] under the first document, then [2].
    assert out.index(f'id="{anchor(2, 1)}"') < out.index(f'id="{anchor(2, 3)}"') < out.index(f'id="{anchor(2, 2)}"')
    first_group = out.split('class="rag-doc"')[1]
    assert anchor(2, 3) in first_group and anchor(2, 2) not in first_group
    assert marked(out) == [QUOTE, SECOND, "Other"]


def test_an_abstention_shows_its_closest_passages_under_a_label_without_markers():
    near = Citation(n=1, source=CITATION.source, start=START, end=START + len(QUOTE), quote=QUOTE, title="Zorblax")
    answer = Answer(question="q", claims=[Claim("The documents don't say.")], abstained=True, closest=[near])
    markdown = answer_markdown(answer, turn=4)
    assert "No answer" in markdown and "](#" not in markdown and "[1]" not in markdown
    assert CLOSEST_LABEL in markdown
    out = sources_html(answer.citations, {CITATION.source: DOC}, turn=4, closest=answer.closest)
    assert CLOSEST_LABEL in out and "No sources" not in out
    assert f'id="{near_anchor(4, 1)}"' in out and "[1]" not in out and marked(out) == [QUOTE]
    payload = api_payload(answer)
    assert payload["citations"] == [] and payload["closest"][0]["quote"] == QUOTE


def test_an_ingest_notice_comes_first():
    report = IngestReport(skipped=["a.txt"], rechunked=["a.txt"], notice="note: re-chunking 1 indexed document(s)")
    assert ingest_markdown(report).startswith("note: re\\-chunking 1 indexed document\\(s\\)")


def test_short_answer_leads_in_bold_and_goes_out_in_the_api():
    answer = Answer(question="Who led the delegation?", claims=[Claim("Rafael Frankel led it.", (1,))],
                    abstained=False, citations=[CITATION], short_answer="Rafael Frankel", short_answer_citation=1)
    markdown = answer_markdown(answer, turn=1)
    assert markdown.startswith("**Rafael Frankel** — Rafael Frankel led it")
    assert answer.text == "Rafael Frankel — Rafael Frankel led it. [1]"
    payload = api_payload(answer)
    assert (payload["short_answer"], payload["short_answer_citation"]) == ("Rafael Frankel", 1)
    answer = dataclasses.replace(answer, short_answer=None, short_answer_citation=None)
    assert not answer_markdown(answer, turn=1).startswith("**") and api_payload(answer)["short_answer"] is None
