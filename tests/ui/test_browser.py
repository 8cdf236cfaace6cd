"""The running app in Debian's Chromium (Playwright): ask, read the cited sources, upload, delete, abstain, refuse.

Chromium resolves every host but 127.0.0.1 to nothing, and each page records its requests: a test fails
if any request leaves 127.0.0.1. A screenshot of each step lands in ``test-output/ui/``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "ui"
META = "002_260f1e49892e43cf.txt"
WAIT_MS = 30_000
UPLOAD_S = 180
"""How long the slow upload (12 chunks, embedded 2 at a time) may take before the test says it never finished."""
ZORBLAX = "The Zorblax Institute was founded in 1987 by Dr. Ilse Varga in Tromsø.\n"

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
expect.set_options(timeout=WAIT_MS)  # assertions default to 5 s: too short for a first answer on a busy 2-core box


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, timeout=WAIT_MS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page; after the test, asserts every request it made stayed on 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    yield page
    context.close()
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname != "127.0.0.1"]
    assert requests and not outside, f"requests left 127.0.0.1: {outside}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str) -> None:
    """Type ``question``, send it, and wait until its answer is complete (the sources panel names it)."""
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    expect(page.locator("#sources")).to_contain_text(f"Sources for: {question}")


def last_answer(page):
    return page.locator("#chat [data-testid=bot]").last


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_meta_answer_links_its_markers_to_highlighted_sources(page, ui_url):
    page.goto(ui_url)
    expect(page.locator("#status")).to_contain_text("offline extractive")
    ask(page, "Who led the Meta delegation?")
    expect(last_answer(page)).to_contain_text("Rafael Frankel")
    sources = page.locator("#sources")
    expect(sources).to_contain_text(META)
    expect(sources.locator("mark").first).to_contain_text("Rafael Frankel")
    shot(page, "01_meta_answer")

    marker = last_answer(page).locator('a[href="#src-1-1"]')
    expect(marker).to_have_text("[1]")
    marker.click()
    card = page.locator("#src-1-1")
    expect(page.locator(".rag-doc", has=card)).to_contain_text(META)
    expect(card).to_be_in_viewport()


def not_asked(page, question: str, why: str) -> None:
    """Send ``question`` and check it was refused: a warning says ``why``, the box keeps the text, the chat is
    unchanged."""
    box = page.locator("#question textarea")
    box.fill(question)
    page.locator("#ask").click()
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text(why)
    expect(box).to_have_value(question)
    expect(page.locator("#chat [data-testid=user]")).to_have_count(0)
    expect(page.locator("#sources")).to_contain_text("Ask a question: the passages each answer cites appear here.")
    expect(page.locator("body")).not_to_contain_text("Traceback")


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ui.app" and r.levelno == logging.WARNING]


def test_an_empty_question_says_so_and_keeps_the_box(page, ui_url, caplog):
    page.goto(ui_url)
    with caplog.at_level(logging.WARNING, logger="ui.app"):
        not_asked(page, "   ", "The question is empty; type a question")
    shot(page, "12_empty_question")
    assert refusals(caplog) == ["chat refused: the question is empty; type a question"]


def test_an_over_long_question_says_its_length_and_the_limit_and_stays_to_be_shortened(page, ui_url, caplog):
    page.goto(ui_url)
    with caplog.at_level(logging.WARNING, logger="ui.app"):
        not_asked(page, "why " * 600, "The question is 2399 characters long; the limit is 2000")
    shot(page, "13_over_long_question")
    assert refusals(caplog) == ["chat refused: the question is 2399 characters long; the limit is 2000 "
                                "(RAG_MAX_QUESTION_CHARS)"]

    # Asked once shortened, and only then the box is cleared.
    ask(page, "Who led the Meta delegation?")
    expect(last_answer(page)).to_contain_text("Rafael Frankel")
    expect(page.locator("#question textarea")).to_have_value("")


def test_uploaded_document_is_cited_then_deleted(page, ui_url, tmp_path):
    upload = tmp_path / "zorblax_institute.txt"
    upload.write_text(ZORBLAX, encoding="utf-8")
    empty = tmp_path / "empty_notes.txt"
    empty.write_text("", encoding="utf-8")
    page.goto(ui_url)

    open_tab(page, "Documents")
    expect(page.locator("#documents")).to_contain_text(META)
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    expect(page.locator("#doc-status")).to_contain_text("Added: zorblax_institute.txt")
    expect(page.locator("#documents")).to_contain_text("zorblax_institute.txt")
    shot(page, "02_uploaded")

    open_tab(page, "Chat")
    ask(page, "Who founded the Zorblax Institute?")
    expect(last_answer(page)).to_contain_text("Ilse Varga")
    expect(page.locator("#sources")).to_contain_text("zorblax_institute.txt")
    expect(page.locator("#sources mark").first).to_contain_text("Ilse Varga")
    shot(page, "03_upload_cited")

    open_tab(page, "Documents")
    page.locator("#documents").get_by_text("zorblax_institute.txt").first.click()
    # The row click fills the choice through the server; Delete sends the choice as it is when clicked.
    expect(page.locator("#doc-choice input")).to_have_value("zorblax_institute.txt")
    page.locator("#delete").click()
    expect(page.locator("#doc-status")).to_contain_text("Deleted zorblax_institute.txt")
    expect(page.locator("#documents")).not_to_contain_text("zorblax_institute.txt")
    shot(page, "04_deleted")

    open_tab(page, "Chat")
    ask(page, "Who founded the Zorblax Institute?")
    expect(last_answer(page).locator(".rag-abstain")).to_be_visible()
    expect(last_answer(page)).not_to_contain_text("Ilse Varga")
    expect(page.locator("#sources")).to_contain_text("Closest passages — none of them states the answer")
    expect(page.locator("#sources")).not_to_contain_text("zorblax_institute.txt")
    shot(page, "05_abstained")

    open_tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(empty))
    expect(page.locator("#doc-status")).to_contain_text("Not added empty_notes.txt: the file is empty")
    expect(page.locator("#documents")).not_to_contain_text("empty_notes.txt")
    shot(page, "06_upload_refused")


def test_a_word_file_is_accepted_uploaded_and_cited_then_deleted(page, ui_url, tmp_path):
    from tests.word import report_docx

    upload = report_docx(tmp_path / "bao_cao_quy_3.docx")
    page.goto(ui_url)
    open_tab(page, "Documents")
    chooser = page.locator("#upload input[type=file]")
    assert ".docx" in [t.strip() for t in (chooser.get_attribute("accept") or "").split(",")]
    chooser.set_input_files(str(upload))
    expect(page.locator("#doc-status")).to_contain_text("Added: bao_cao_quy_3.docx")
    expect(page.locator("#documents")).to_contain_text("Báo cáo quý 3")

    open_tab(page, "Chat")
    ask(page, "Ban giám đốc đề xuất mở thêm cửa hàng ở đâu?")
    expect(last_answer(page)).to_contain_text("Huế")
    expect(page.locator("#sources")).to_contain_text("bao_cao_quy_3.docx")
    shot(page, "06b_docx_cited")

    open_tab(page, "Documents")
    page.locator("#documents").get_by_text("bao_cao_quy_3.docx").first.click()
    expect(page.locator("#doc-choice input")).to_have_value("bao_cao_quy_3.docx")
    page.locator("#delete").click()
    expect(page.locator("#documents")).not_to_contain_text("bao_cao_quy_3.docx")


def test_unreachable_llm_shows_a_notice_and_the_offline_answer(page, fallback_url):
    page.goto(fallback_url)
    expect(page.locator("#status")).to_contain_text("llm (")
    ask(page, "Who led the Meta delegation?")
    expect(last_answer(page).locator(".rag-notice")).to_contain_text("LLM")
    expect(last_answer(page)).to_contain_text("Rafael Frankel")
    shot(page, "07_llm_fallback_notice")


@pytest.fixture
def slow_upload_url(seeded_dir, tmp_path, loopback_port) -> Iterator[str]:
    """The app over a copy of the seeds that embeds 2 chunks per call, so an upload takes several steps."""
    import shutil

    from rag import Assistant
    from tests.ui.conftest import serve

    shutil.copytree(seeded_dir, tmp_path / "data")
    yield from serve(Assistant(data_dir=tmp_path / "data", embed_batch=2), loopback_port())


def test_an_upload_shows_one_moving_bar_with_the_file_and_chunks_embedded(page, slow_upload_url, tmp_path):
    upload = tmp_path / "okapi_report.txt"
    sentence = "The okapi number {0} lives in the Ituri rainforest and eats the leaves of {0} different plants. "
    upload.write_text("".join(sentence.format(n) for n in range(60)), encoding="utf-8")  # 12 chunks
    page.goto(slow_upload_url)
    open_tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    bars = page.get_by_role("progressbar")
    expect(bars.first).to_have_attribute("aria-label", re.compile(r"^indexing file 1 of 1: okapi_report\.txt · "
                                                                   r"\d+ of 12 chunks embedded$"))
    seen = set()
    deadline = time.monotonic() + UPLOAD_S
    while not (status := page.locator("#doc-status").inner_text()).startswith("Added"):
        assert time.monotonic() < deadline, f"not added after {UPLOAD_S} s; the status says: {status!r}"
        shown = bars.count()  # counted once: the bar may go between two calls
        if shown:
            assert shown == 1, "one bar, not one per output"
            with contextlib.suppress(playwright_api.Error):  # it may vanish between the two calls
                seen.add(int(bars.first.get_attribute("aria-valuenow", timeout=1000)))
                if len(seen) == 2:
                    shot(page, "11_upload_progress")
                    # Drawn inside the status line, not clipped away by it.
                    box, status = bars.first.bounding_box(), page.locator("#doc-status").bounding_box()
                    assert status["y"] <= box["y"] and box["y"] + box["height"] <= status["y"] + status["height"]
        page.wait_for_timeout(100)
    assert len(seen) >= 2, f"the bar moved: {sorted(seen)}"
    expect(page.locator("#doc-status")).to_contain_text("Added: okapi_report.txt")


def test_documents_indexed_and_removed_by_another_process_show_up(page, ui_url, ui_assistant, tmp_path,
                                                                   subprocess_env):
    """`rag index` / `rag remove` in another process: the next answer cites the file and updates the counts,
    and the documents tab lists (then stops listing) it when opened, without reloading the page."""
    import subprocess

    from tests.reliability.harness import RAG

    note = tmp_path / "quillon_notes.txt"
    note.write_text("The Quillon Observatory was built in 1931 by the astronomer Mira Koss.\n", encoding="utf-8")
    env = subprocess_env(tmp_path / "netguard.log")

    def rag(*args: str) -> None:
        result = subprocess.run([str(RAG), "--data-dir", str(ui_assistant.settings.data_dir), *args], env=env,
                                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr

    page.goto(ui_url)
    expect(page.locator("#status")).to_contain_text(f"{len(ui_assistant.documents())} documents")
    before = len(ui_assistant.documents())
    rag("index", str(note))
    ask(page, "Who built the Quillon Observatory?")
    expect(last_answer(page)).to_contain_text("Mira Koss")
    expect(page.locator("#sources")).to_contain_text("quillon_notes.txt")
    expect(page.locator("#status")).to_contain_text(f"{before + 1} documents")
    open_tab(page, "Documents")
    expect(page.locator("#documents")).to_contain_text("quillon_notes.txt")
    shot(page, "07_indexed_elsewhere")

    open_tab(page, "Chat")
    rag("remove", "quillon_notes.txt")
    open_tab(page, "Documents")
    expect(page.locator("#documents")).not_to_contain_text("quillon_notes.txt")
    expect(page.locator("#documents")).to_contain_text(META)
    assert not (tmp_path / "netguard.log").exists()


def test_an_abstention_shows_the_closest_passages_as_source_cards(page, ui_url):
    page.goto(ui_url)
    ask(page, "What is the boiling point of mercury at sea level?")
    answer = last_answer(page)
    expect(answer.locator(".rag-abstain")).to_be_visible()
    expect(answer).to_contain_text("Closest passages — none of them states the answer")
    expect(answer.locator('a[href^="#src-"], a[href^="#near-"]')).to_have_count(0)
    sources = page.locator("#sources")
    expect(sources.locator(".rag-closest-label")).to_have_text("Closest passages — none of them states the answer")
    expect(sources.locator(".rag-source").first).to_be_visible()
    expect(sources.locator("mark").first).not_to_be_empty()
    expect(sources).not_to_contain_text("No sources")
    shot(page, "08_closest_passages")


def test_source_cards_are_grouped_under_one_readable_title(page, ui_url):
    page.goto(ui_url)
    ask(page, "Combien d'internautes compte le Cambodge ?")
    groups = page.locator("#sources .rag-doc")
    expect(groups.first).to_be_visible()
    titles = [t.strip() for t in groups.locator(".rag-source-head").all_inner_texts()]
    files = [f.strip() for f in groups.locator(".rag-source-file").all_inner_texts()]
    assert len(set(files)) == len(files) == len(titles), "one group per document"
    for title, file in zip(titles, files):
        assert title != file, f"{file}: the title is the file name"
        assert "Photo:" not in title and "Ảnh:" not in title and not title.startswith("date "), title
        assert len(title) <= 80
    # Every card of the answer sits in its document's group, under that one title.
    cards = page.locator("#sources .rag-source")
    assert cards.count() == groups.locator(".rag-source").count() >= 1
    shot(page, "09_grouped_source_cards")

    # The closest passages of this abstention come from several passages of the Meta article: one group,
    # one title, several cards.
    ask(page, "What was Meta's revenue in 2023?")
    meta_group = page.locator("#sources .rag-doc", has_text=META)
    expect(meta_group).to_have_count(1)
    expect(meta_group.locator(".rag-source-head")).to_have_count(1)
    assert meta_group.locator(".rag-source").count() >= 2
    meta_group.scroll_into_view_if_needed()
    shot(page, "10_cards_of_one_document_grouped")


def test_search_in_answers_from_the_chosen_documents_and_follows_uploads(page, ui_url, tmp_path):
    cambodia_fr = "001_2b62d3c3698cbca6.txt"
    page.goto(ui_url)
    picker = page.locator("#search-in")
    picker.locator("input").click()
    page.get_by_role("option", name=cambodia_fr).click()
    expect(picker).to_contain_text(cambodia_fr)
    ask(page, "Who led the Meta delegation?")
    expect(last_answer(page).locator(".rag-abstain")).to_be_visible()
    expect(page.locator("#sources")).to_contain_text(cambodia_fr)
    expect(page.locator("#sources")).not_to_contain_text(META)
    shot(page, "10_search_in_chosen")

    note = tmp_path / "picker_note.txt"
    note.write_text("The Quillon lighthouse was built in 1881.\n", encoding="utf-8")
    open_tab(page, "Documents")
    page.locator("#upload input[type=file]").set_input_files(str(note))
    expect(page.locator("#doc-status")).to_contain_text("Added: picker_note.txt")
    open_tab(page, "Chat")
    expect(picker).to_contain_text(cambodia_fr)  # the choice survives the refresh
    picker.locator("input").click()
    expect(page.get_by_role("option", name="picker_note.txt")).to_be_visible()
    page.get_by_role("option", name="picker_note.txt").click()
    page.keyboard.press("Escape")
    ask(page, "When was the Quillon lighthouse built?")
    expect(last_answer(page)).to_contain_text("1881")
    expect(page.locator("#sources")).to_contain_text("picker_note.txt")

    open_tab(page, "Documents")
    page.locator("#documents").get_by_text("picker_note.txt").first.click()
    expect(page.locator("#doc-choice input")).to_have_value("picker_note.txt")
    page.locator("#delete").click()
    expect(page.locator("#doc-status")).to_contain_text("Deleted picker_note.txt")
    open_tab(page, "Chat")
    expect(picker).not_to_contain_text("picker_note.txt")
    expect(picker).to_contain_text(cambodia_fr)
