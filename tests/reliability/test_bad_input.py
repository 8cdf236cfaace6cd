"""Bad files, names and questions through the API, the ``rag`` command and the UI's upload handler.

Each is refused with a message that names the file and the problem; the index is exactly as it was
(documents, chunks, vectors, keyword rows); and nothing appears or changes outside the data directory.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from index.errors import InputError
from rag.settings import Settings
from tests.reliability.harness import META, SEEDS, index_problems, index_state, scan_pdf, tree
from tests.word import encrypted_bytes

pytestmark = pytest.mark.slow

MB = 1_000_000
GOOD = "Die Quokka-Kolonie auf Rottnest zählt 12.000 Tiere. Sie wurde 1696 von Willem de Vlamingh beschrieben."

# name -> (content, words the message must contain besides the name)
BAD_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty.txt": (b"", ("empty",)),
    "program.txt": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64, ("binary",)),
    "latin1.txt": ("Café crème, brûlée et île flottante.".encode("latin-1"), ("UTF-8", "offset")),
    "scan.pdf": (scan_pdf(), ("no text layer", "OCR")),
    "broken.docx": (b"PK\x03\x04" + b"\x00" * 200, ("cannot read this Word file", "save it again as .docx")),
    "locked.docx": (encrypted_bytes(), ("password-protected", "without the password")),
    "slides.pptx": (b"PK\x03\x04" + b"\x00" * 200, ("unsupported file type", ".pptx", ".pdf")),
    "installer.exe": (b"MZ\x90\x00" + b"\x00" * 200, ("unsupported file type", ".exe")),
}
BIG = "huge.txt"  # 50 MB of real text: over the 20 MB default limit

# upload name -> words the message must contain (the content is GOOD: only the name is wrong)
BAD_NAMES = {
    "bell\x07\x1b[31mred.txt": ("control characters",),
    "x" * 296 + ".txt": ("300 characters", "limit is 200"),
}
# Names that are paths: the citation id is the last component, and nothing is written anywhere they point.
PATH_NAMES = ["../../escaped.txt", "/etc/cron.d/escaped.txt", "..\\..\\escaped.txt", "C:\\Windows\\escaped.txt"]


def make_bad_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (data, _) in BAD_FILES.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    with (folder / BIG).open("wb") as out:
        line = b"Dies ist eine Zeile ganz gewoehnlichen Textes in einer sehr grossen Datei.\n"  # 76 bytes
        out.write(line * (50 * MB // len(line) + 1))
    return [*paths, folder / BIG]


def expected_words(name: str) -> tuple[str, ...]:
    return ("50.0 MB", "limit is 20.0 MB", "RAG_MAX_FILE_MB") if name == BIG else BAD_FILES[name][1]


def assert_names_problem(name: str, message: str, words: tuple[str, ...]) -> None:
    assert name in message or repr(name)[1:-1] in message or name[:40] in message, (name, message)
    for word in words:
        assert word.lower() in message.lower(), (name, word, message)


def test_default_file_limit_refuses_a_50_mb_file():
    assert Settings().max_file_mb == 20.0


# -- Python API ------------------------------------------------------------------------------------
def test_bad_files_through_the_api(seeded_copy, tmp_path, monkeypatch):
    assistant, data_dir = seeded_copy
    monkeypatch.chdir(tmp_path)
    paths = make_bad_files(tmp_path / "inputs")
    before, files = index_state(assistant), tree(tmp_path, exclude=data_dir)

    report = assistant.add(paths)

    assert not report.added and not report.updated and not report.skipped and report.chunks_embedded == 0
    assert sorted(report.failed) == sorted(p.name for p in paths)
    for name, message in report.failed.items():
        assert_names_problem(name, message, expected_words(name))
    assert index_state(assistant) == before
    assert tree(tmp_path, exclude=data_dir) == files


@pytest.mark.parametrize("name", list(BAD_NAMES), ids=["control", "300"])
def test_bad_upload_names_through_the_api(seeded_copy, tmp_path, monkeypatch, name):
    assistant, data_dir = seeded_copy
    (tmp_path / "inputs").mkdir()
    monkeypatch.chdir(tmp_path / "inputs")
    upload = tmp_path / "inputs" / "upload.txt"
    upload.write_text(GOOD, encoding="utf-8")
    before, files = index_state(assistant), tree(tmp_path, exclude=data_dir)

    report = assistant.add([upload], names=[name])

    assert not report.added and len(report.failed) == 1
    (key, message), = report.failed.items()
    assert key.isprintable(), "a refused name is reported with its control characters escaped"
    assert_names_problem(name, message, BAD_NAMES[name])
    assert index_state(assistant) == before
    assert tree(tmp_path, exclude=data_dir) == files


@pytest.mark.parametrize("name", PATH_NAMES, ids=["dotdot", "absolute", "backslashes", "windows"])
def test_upload_names_that_are_paths_only_name_the_document(seeded_copy, tmp_path, monkeypatch, name):
    assistant, data_dir = seeded_copy
    (tmp_path / "inputs" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "inputs" / "deeper")
    upload = tmp_path / "inputs" / "upload.txt"
    upload.write_text(GOOD, encoding="utf-8")
    files = tree(tmp_path, exclude=data_dir)

    report = assistant.add([upload], names=[name])

    assert report.added == ["escaped.txt"] and not report.failed
    assert assistant.document_text("escaped.txt") == GOOD
    assert tree(tmp_path, exclude=data_dir) == files, "nothing was written where the name points"


def test_a_folder_path_on_the_command_line_is_fine_its_name_is_the_id(seeded_copy, tmp_path):
    # Paths (with ../) are how files are found; only the citation id must be a plain name.
    assistant, _ = seeded_copy
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / "quokka.txt").write_text(GOOD, encoding="utf-8")
    report = assistant.add([nested / ".." / "quokka.txt"])
    assert report.added == ["quokka.txt"] and not report.failed


def test_duplicate_uploads(seeded_copy, tmp_path):
    assistant, _ = seeded_copy
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(GOOD, encoding="utf-8")
    second.write_text("Ein ganz anderer Text über Wombats in Tasmanien. Er hat zwei Sätze.", encoding="utf-8")
    assert assistant.add([first], names=["quokka.txt"]).added == ["quokka.txt"]
    after_first = index_state(assistant)

    # The same file again: nothing is embedded, nothing changes.
    again = assistant.add([first], names=["quokka.txt"])
    assert again.skipped == ["quokka.txt"] and again.chunks_embedded == 0
    assert index_state(assistant) == after_first

    # Another file uploaded under the same name is another document: neither replaces the other.
    report = assistant.add([first, second], names=["quokka.txt", "quokka.txt"])
    # Both are shown with the part of their locator (uploads/SHA/NAME) that tells them apart.
    (unchanged,), (shown,) = report.skipped, report.added
    assert unchanged.endswith("/quokka.txt") and shown.endswith("/quokka.txt") and unchanged != shown
    assert not report.updated and not report.failed
    assert assistant.document_text(shown) == second.read_text(encoding="utf-8")
    assert assistant.document_text(unchanged) == GOOD


def test_same_file_name_in_two_folders_is_two_documents(seeded_copy, tmp_path):
    assistant, _ = seeded_copy
    for folder, text in (("2023", GOOD), ("2024", "Wombats leben in Tasmanien. Sie graben Höhlen.")):
        (tmp_path / "reports" / folder).mkdir(parents=True)
        (tmp_path / "reports" / folder / "q1.txt").write_text(text, encoding="utf-8")
    report = assistant.add([tmp_path / "reports"])
    assert report.added == ["2023/q1.txt", "2024/q1.txt"] and not report.failed
    assert assistant.document_text("2023/q1.txt") == GOOD
    assert "Wombats" in assistant.document_text("2024/q1.txt")
    with pytest.raises(InputError, match="2023/q1.txt, 2024/q1.txt"):
        assistant.document_text("q1.txt")
    # Indexing the folder again neither swaps the two nor re-embeds anything.
    again = assistant.add([tmp_path / "reports"])
    assert again.skipped == ["2023/q1.txt", "2024/q1.txt"] and again.chunks_embedded == 0 and not again.failed
    assert assistant.document_text("2023/q1.txt") == GOOD


def test_empty_and_huge_questions_leave_the_index_alone(seeded_copy):
    assistant, _ = seeded_copy
    before = index_state(assistant)
    for question, words in (("", ("empty",)), (" \n\t ", ("empty",)), ("x" * 100_000, ("100000", "limit"))):
        with pytest.raises(InputError) as info:
            assistant.ask(question)
        for word in words:
            assert word in str(info.value), str(info.value)
    assert index_state(assistant) == before


# -- the rag command ---------------------------------------------------------------------------------
def test_bad_files_and_questions_through_the_cli(seeded_dir, tmp_path, cli_factory):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_dir, data_dir)
    cli = cli_factory(data_dir)
    paths = make_bad_files(tmp_path / "inputs")
    rows = "SELECT source, sha256, state, chunks FROM documents ORDER BY source"
    with sqlite3.connect(data_dir / "catalog.sqlite3") as conn:
        rows_before = conn.execute(rows).fetchall()
    files = tree(tmp_path, exclude=data_dir)

    result = cli("index", *map(str, paths))
    assert result.returncode == 1, "every file failed"
    assert result.stdout.startswith(f"0 added, 0 updated, 0 unchanged, {len(paths)} skipped")
    for path in paths:
        line = next((x for x in result.stderr.splitlines() if x.startswith(f"  skipped {path.name}: ")), None)
        assert line is not None, (path.name, result.stderr)
        assert line.count(path.name) == 1, f"the file is named once: {line}"
        assert_names_problem(path.name, line, expected_words(path.name))

    long_question = cli("ask", "Who led the Meta delegation? " * 3500)
    assert long_question.returncode == 2 and long_question.stdout == ""
    assert long_question.stderr.startswith("error: the question is 101499 characters long; the limit is 2000")
    # (An empty question is tests/rag/test_rag_cli.py's.)

    with sqlite3.connect(data_dir / "catalog.sqlite3") as conn:
        assert conn.execute(rows).fetchall() == rows_before
    assert index_problems(Settings(data_dir=data_dir)) == []
    # HOME, the working directory and the inputs are untouched: the CLI wrote only inside its data dir.
    assert tree(tmp_path, exclude=data_dir) == files


def test_cli_prints_a_hostile_file_name_escaped(tmp_path, cli_factory):
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "clear\x1b[2Jscreen.txt").write_text(GOOD, encoding="utf-8")
    (folder / "fine.txt").write_text(GOOD, encoding="utf-8")
    result = cli_factory(tmp_path / "data")("index", str(folder))
    assert result.returncode == 1 and result.stdout.startswith("1 added, 0 updated, 0 unchanged, 1 skipped")
    assert "\x1b" not in result.stderr and "clear\\x1b[2Jscreen.txt" in result.stderr
    assert "control characters" in result.stderr


# -- the UI's upload handler -------------------------------------------------------------------------
@pytest.fixture
def ui_upload(seeded_copy):
    """``(upload, assistant)``: the Documents tab's upload handler of the real app, called as Gradio calls it."""
    from ui.app import build_app

    assistant, _ = seeded_copy
    demo = build_app(assistant)
    handler = next(f.fn for f in demo.fns.values() if f.name == "upload")
    return handler, assistant


def gradio_cache_copy(path: Path, cache: Path, name: str | None = None) -> str:
    """Where Gradio puts an upload: a random folder whose last component is the user's file name."""
    folder = cache / f"{len(list(cache.iterdir())) if cache.exists() else 0:040d}"
    folder.mkdir(parents=True)
    target = folder / (name or path.name)
    shutil.copyfile(path, target)
    return str(target)


@pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a request is a UserWarning
def test_bad_files_through_the_ui_upload(ui_upload, tmp_path):
    upload, assistant = ui_upload
    paths = make_bad_files(tmp_path / "inputs")
    cache = tmp_path / "gradio"
    uploads = [gradio_cache_copy(p, cache) for p in paths]
    uploads.append(gradio_cache_copy(paths[0], cache, name="tab\tname.txt"))
    before, files = index_state(assistant), tree(tmp_path / "inputs")

    _, message, *_ = upload(uploads)

    for path in paths:
        line = next((x for x in message.split("\n\n") if f"<code>{path.name}</code>" in x), None)
        assert line is not None and line.startswith("**Not added**"), (path.name, message)
        for word in expected_words(path.name):
            assert word.lower() in line.lower().replace("\\", ""), (word, line)
    assert "control characters" in message
    assert "Added" not in message
    assert index_state(assistant) == before
    assert tree(tmp_path / "inputs") == files
    assert not any(Path(u).exists() for u in uploads), "the handler leaves no copy of an upload behind"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_duplicate_upload_through_the_ui(ui_upload, tmp_path):
    upload, assistant = ui_upload
    cache = tmp_path / "gradio"
    _, first, *_ = upload([gradio_cache_copy(SEEDS / META, cache)])
    assert first.startswith("Unchanged: ") and META in first
    source = tmp_path / "notes.txt"
    source.write_text(GOOD, encoding="utf-8")
    _, added, *_ = upload([gradio_cache_copy(source, cache)])
    assert added.startswith("Added: <code>notes.txt</code>")
    state = index_state(assistant)
    _, again, *_ = upload([gradio_cache_copy(source, cache)])
    assert again.startswith("Unchanged: <code>notes.txt</code>")
    assert index_state(assistant) == state


def test_a_second_notes_file_uploaded_through_the_ui_is_added(ui_upload, tmp_path):
    upload, assistant = ui_upload
    cache = tmp_path / "gradio"
    first, second = tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"
    for path, text in ((first, GOOD), (second, "Wombats leben in Tasmanien. Sie graben Höhlen.")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    _, added, *_ = upload([gradio_cache_copy(first, cache)])
    assert added.startswith("Added: <code>notes.md</code>")
    _, again, *_ = upload([gradio_cache_copy(second, cache)])
    assert again.startswith("Added: <code>") and "/notes.md</code>" in again and "Updated" not in again
    named = [d for d in assistant.documents() if d.source.endswith("notes.md")]
    assert sorted(assistant.document_text(d.source) for d in named) == sorted(
        [GOOD, second.read_text(encoding="utf-8")])


def test_huge_question_through_the_ui_api(seeded_copy):
    import gradio as gr

    from ui.app import build_app

    assistant, _ = seeded_copy
    chat = next(f.fn for f in build_app(assistant).fns.values() if f.name == "chat")
    with pytest.raises(gr.Error, match="100000 characters long; the limit is 2000"):
        chat("x" * 100_000, [])
