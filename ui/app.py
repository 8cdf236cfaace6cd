"""An ``Assistant`` in, a Gradio app out: chat with cited sources, a documents tab, and a ``/chat`` API.

``build_app`` wires the components; ``launch`` serves them with the offline settings (no analytics,
no share link, system fonts, no server-side rendering) that keep every request on this machine.
"""

from __future__ import annotations

import html
import logging
import os

# Before gradio is imported: otherwise it starts threads that call gradio and huggingface hosts.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from collections.abc import Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from index.errors import InputError, RagError  # noqa: E402
from index.ingest import IngestProgress, IngestReport  # noqa: E402
from index.loading import SUPPORTED_SUFFIXES  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from ui.render import (  # noqa: E402
    DOCUMENT_HEADERS,
    answer_markdown,
    api_payload,
    document_rows,
    error_html,
    escape_markdown,
    ingest_markdown,
    sources_html,
    status_html,
)

# A system font stack: the default theme's web fonts would be one more thing to fetch.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Helvetica Neue", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
)

CSS = """
.rag-abstain { background: var(--neutral-100); color: var(--neutral-600); border-left: 4px solid var(--neutral-400);
  padding: 8px 12px; border-radius: 6px; font-style: italic; }
.dark .rag-abstain { background: var(--neutral-800); color: var(--neutral-300); }
.rag-notice, .rag-error { background: #fff4e5; color: #7a4a00; border-left: 4px solid #f0a020; padding: 6px 12px;
  border-radius: 6px; }
.rag-error { background: #fdecec; color: #8a1c1c; border-left-color: #d93b3b; }
.rag-confidence { color: var(--neutral-500); font-size: 0.8em; margin-top: 4px; }
#chat a[href^="#src-"] { color: var(--color-accent); font-weight: 600; text-decoration: none; }
.rag-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
  background: var(--background-fill-secondary); }
.rag-source:target { outline: 2px solid var(--color-accent); }
.rag-source-file { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.rag-n { color: var(--color-accent); font-weight: 700; }
.rag-context { margin: 0; line-height: 1.5; }
.rag-context mark { background: #ffe066; color: #1a1a1a; padding: 0 2px; border-radius: 3px; }
.rag-sources-question { font-weight: 600; margin-bottom: 8px; }
.rag-sources-empty { color: var(--body-text-color-subdued); font-style: italic; }
.rag-doc { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;
  background: var(--background-fill-secondary); }
.rag-doc .rag-source { border: none; border-top: 1px dashed var(--border-color-primary); border-radius: 0;
  padding: 6px 0 0; margin: 6px 0 0; background: none; }
.rag-source-where { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 4px; }
.rag-closest-label { font-weight: 600; color: #7a4a00; background: #fff4e5; border-left: 4px solid #f0a020;
  padding: 6px 10px; border-radius: 6px; margin-bottom: 8px; }
.rag-closest-hint { font-size: 0.9em; color: var(--body-text-color-subdued); margin-top: 6px; }
#documents .cell-wrap, #documents .cell-wrap * { font-family: var(--font); }
#doc-status { min-height: 72px; }  /* room for the upload's progress bar, which Gradio draws over its output */
"""

log = logging.getLogger(__name__)

UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
NO_SOURCES = '<div class="rag-sources-empty">Ask a question: the passages each answer cites appear here.</div>'


def build_app(assistant: Assistant, reindex_paths: Sequence[str | Path] = ()) -> gr.Blocks:
    """The whole UI over ``assistant``; "Re-index" re-adds ``reindex_paths`` (unchanged files are skipped)."""
    max_mb = assistant.settings.max_file_mb

    def ask(message: str, messages: list, questions: list[str], top_k: int, chosen: list[str]) -> Iterator[tuple]:
        """Stream one answer into the chat, from the ``chosen`` documents only (none chosen: all); the finished
        answer gets linked markers and a sources panel.

        A question the assistant refuses (empty, no words, too long) is not asked: a warning says why, the
        console logs it in one line, and the box keeps the text so the user can fix it.
        """
        try:
            message = assistant.pipeline.question.validate(message)
        except InputError as exc:
            log.warning("chat refused: %s", exc)
            reason = str(exc)
            gr.Warning(reason[:1].upper() + reason[1:])
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turn = len(questions) + 1
        messages = [*messages, {"role": "user", "content": escape_markdown(message)}]
        reply = {"role": "assistant", "content": "…"}
        yield "", [*messages, reply], questions, '<div class="rag-sources-empty">Searching…</div>'
        text, answer = "", None
        try:
            for piece in assistant.stream(message, questions, top_k=int(top_k), sources=chosen or None):
                answer = piece.answer or answer
                if piece.text:
                    text += piece.text
                    yield "", [*messages, {**reply, "content": escape_markdown(text)}], questions, gr.skip()
        except RagError as exc:
            gr.Warning(str(exc))
            yield "", [*messages, {**reply, "content": error_html(str(exc))}], questions, NO_SOURCES
            return
        texts = {c.source: assistant.document_text(c.source) for c in answer.citations + answer.closest}
        yield ("", [*messages, {**reply, "content": answer_markdown(answer, turn)}], [*questions, message],
               sources_html(answer.citations, texts, turn, question=message, closest=answer.closest))

    def chat(message: str, history: list[str] | None = None, sources: list[str] | None = None) -> dict:
        """Answer ``message``; ``history`` lists earlier user questions, oldest first; ``sources`` names the only
        documents to answer from (as the Documents tab lists them, or their paths or ids; none: all).

        Returns ``{text, abstained, citations: [{n, source, start, end, quote, title, also_in}], closest: [same
        shape], mode, notice, language, confidence, short_answer, short_answer_citation}``; ``closest`` lists an
        abstention's nearest passages (none states the answer).
        """
        try:
            return api_payload(assistant.ask(message, history=list(history or []), sources=list(sources or [])))
        except RagError as exc:
            # A refusal its message explains (an empty question, a server down): one console line, no traceback;
            # real bugs keep theirs.
            log.warning("/chat refused: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from None

    def documents_view(keep_choice: bool = False) -> tuple:
        """The list, the delete choices and the counts; ``keep_choice`` leaves the chosen document chosen (a
        refresh on opening the tab may finish after the user already clicked a row)."""
        documents = assistant.documents()
        choices = [d.source for d in documents]
        choice = gr.update(choices=choices) if keep_choice else gr.update(choices=choices, value=None)
        return document_rows(documents), choice, status_html(assistant.status())

    def search_in(chosen: list[str] | None) -> dict:
        """The chat's document picker over today's documents, still choosing those of its choice that remain."""
        names = [d.source for d in assistant.documents()]
        return gr.update(choices=names, value=[c for c in chosen or [] if c in names])

    def ingest(paths: list[str | Path], names: list[str] | None, progress: gr.Progress) -> IngestReport:
        def step(p: IngestProgress) -> None:
            # Chunks embedded are the slow part and move the bar; the file names what is being read.
            share = p.chunks_embedded / p.chunks_total if p.chunks_total else p.files_done / max(p.files_total, 1)
            files = f"file {min(p.files_done + 1, p.files_total)} of {p.files_total}: {p.current}" if p.current else "done"
            progress(share, desc=f"indexing {files} · {p.chunks_embedded} of {p.chunks_total} chunks embedded")

        def waiting(pid: int | None) -> None:
            progress(0.0, desc=f"waiting for another indexing process{f' (pid {pid})' if pid else ''}")

        report = assistant.add(paths, progress=step, names=names, waiting=waiting)
        for reason in report.failed.values():
            gr.Warning(reason)
        return report

    def upload(files: list[str] | None, progress=gr.Progress()) -> tuple:
        """Index uploaded files under their original names, through the same validation as the CLI."""
        if not files:
            return None, gr.skip(), *documents_view()
        try:
            # Gradio keeps the uploaded file's own name as the last path component.
            message = ingest_markdown(ingest(files, [Path(f).name for f in files], progress))
        except RagError as exc:
            gr.Warning(str(exc))
            message = f"**Error:** {escape_markdown(str(exc))}"
        finally:
            # The text now lives in the catalog: leave no second copy of the user's file in Gradio's cache.
            for f in files:
                Path(f).unlink(missing_ok=True)
        return None, message, *documents_view()

    def reindex(progress=gr.Progress()) -> tuple:
        if not reindex_paths:
            return "Refreshed the list (no folders were given with `--index`).", *documents_view()
        try:
            message = ingest_markdown(ingest(list(reindex_paths), None, progress))
        except RagError as exc:
            gr.Warning(str(exc))
            message = f"**Error:** {escape_markdown(str(exc))}"
        return message, *documents_view()

    def delete(source: str | None) -> tuple:
        if not source:
            gr.Warning("Choose a document to delete first.")
            return gr.skip(), *documents_view()
        try:
            removed = assistant.remove(source)
        except RagError as exc:
            gr.Warning(str(exc))
            return f"**Error:** {escape_markdown(str(exc))}", *documents_view()
        name = f"<code>{html.escape(source)}</code>"
        return (f"Deleted {name}." if removed else f"{name} was not indexed."), *documents_view()

    def pick(event: gr.SelectData) -> str:
        return event.row_value[DOCUMENT_HEADERS.index("File")]

    with gr.Blocks(title="Document assistant", analytics_enabled=False) as demo:
        gr.Markdown("## Document assistant · answers cite the passages they come from")
        questions = gr.State([])
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=520, latex_delimiters=[],
                                         feedback_options=None, buttons=["copy", "copy_all"],
                                         placeholder="Ask about the indexed documents.")
                    with gr.Row():
                        box = gr.Textbox(placeholder="Ask a question, e.g. Who led the Meta delegation?",
                                         show_label=False, scale=5, elem_id="question", autofocus=True)
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    picker = gr.Dropdown(choices=[d.source for d in assistant.documents()], value=[], multiselect=True,
                                         label="Search in", info="all documents, or only the ones chosen here",
                                         elem_id="search-in")
                    clear = gr.Button("New conversation", size="sm")
                    with gr.Accordion("Settings", open=True, elem_id="settings"):
                        status = gr.HTML(status_html(assistant.status()), elem_id="status")
                        top_k = gr.Slider(1, 20, value=assistant.settings.top_k, step=1,
                                          label="Passages retrieved per question (top-k)")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(NO_SOURCES, elem_id="sources", max_height=720)
        with gr.Tab("Documents") as documents_tab:
            table = gr.Dataframe(headers=DOCUMENT_HEADERS, value=document_rows(assistant.documents()),
                                 type="array", interactive=False, wrap=True, elem_id="documents",
                                 column_widths=["40%", "22%", "8%", "8%", "10%", "12%"])
            uploader = gr.File(label=f"Add documents ({', '.join(UPLOAD_TYPES)}; at most {max_mb:g} MB each)",
                               file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
            with gr.Row():
                choice = gr.Dropdown(choices=[d.source for d in assistant.documents()], value=None,
                                     label="Document (or click a row)", elem_id="doc-choice", scale=3)
                remove = gr.Button("Delete", variant="stop", elem_id="delete", scale=1)
                refresh = gr.Button("Re-index", elem_id="reindex", scale=1)
            doc_status = gr.Markdown(elem_id="doc-status")

        chat_io = dict(inputs=[box, chatbot, questions, top_k, picker], outputs=[box, chatbot, questions, sources],
                       api_visibility="private")
        # Another process (`rag index`, a second UI) may have added or removed documents: the counts are
        # refreshed after every answer, the documents tab whenever it is opened.
        refresh_status = dict(fn=lambda: status_html(assistant.status()), outputs=status, api_visibility="private",
                              show_progress="hidden")
        box.submit(ask, **chat_io).then(**refresh_status)
        send.click(ask, **chat_io).then(**refresh_status)
        clear.click(lambda: ([], [], NO_SOURCES), outputs=[chatbot, questions, sources], api_visibility="private")
        chatbot.clear(lambda: ([], NO_SOURCES), outputs=[questions, sources], api_visibility="private")
        view = [table, choice, status]
        # After each change to the list (or a look at it), the chat's picker offers what is indexed now.
        refresh_picker = dict(fn=search_in, inputs=picker, outputs=picker, api_visibility="private",
                              show_progress="hidden")
        # One progress bar, on the status line, rather than one over each output component.
        uploader.upload(upload, inputs=uploader, outputs=[uploader, doc_status, *view], api_visibility="private",
                        show_progress_on=doc_status).then(**refresh_picker)
        refresh.click(reindex, outputs=[doc_status, *view], api_visibility="private",
                      show_progress_on=doc_status).then(**refresh_picker)
        remove.click(delete, inputs=choice, outputs=[doc_status, *view], api_visibility="private").then(**refresh_picker)
        table.select(pick, outputs=choice, api_visibility="private")
        # Quiet refreshes: a progress bar over each listing would flash on every tab switch.
        demo.load(documents_view, outputs=view, api_visibility="private", show_progress="hidden").then(**refresh_picker)
        documents_tab.select(lambda: documents_view(keep_choice=True), outputs=view, api_visibility="private",
                             show_progress="hidden").then(**refresh_picker)
        gr.api(chat, api_name="chat")
    return demo


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int | None = None,
           auth: tuple[str, str] | None = None, max_file_mb: float | None = None, block: bool = True) -> str:
    """Serve ``demo`` on ``host:port`` with nothing loaded from outside; returns the local URL.

    Uploads larger than ``max_file_mb`` (default: the settings' ``max_file_mb``) are refused by the server.
    """
    if max_file_mb is None:
        from rag.settings import Settings

        max_file_mb = Settings.model_fields["max_file_mb"].default
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=auth, share=False, ssr_mode=False, mcp_server=False, pwa=False,
        theme=THEME, css=CSS, max_file_size=int(max_file_mb * 1_000_000), footer_links=["api", "settings"],
        prevent_thread_lock=True, quiet=True,  # quiet: no "set `share=True`" advice; we never share
    )
    if block:
        demo.block_thread()
    return url
