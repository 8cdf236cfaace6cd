"""The userdocs PDF from its committed text source: ``python -m tests.evals.userdocs_pdf`` rewrites it.

The source (``evals/datasets/userdocs-pdf/<name>.txt``) holds the PDF's title on its first line and then
its printed lines, one per line, blank lines included. It sits outside ``userdocs/`` because every file
in that folder is indexed as a document. ``tests/evals/test_userdocs.py`` checks that the committed PDF
is byte for byte what this writes, so the PDF never drifts from its source.
"""

from __future__ import annotations

from pathlib import Path

from tests.pdf import make_pdf

DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"
SOURCES = DATASETS / "userdocs-pdf"
CORPUS = DATASETS / "userdocs"


def render(source: Path) -> bytes:
    """The PDF for one text source (Helvetica, WinAnsi: the source must be Latin-1 text)."""
    title, *lines = source.read_text(encoding="utf-8").rstrip("\n").split("\n")
    return make_pdf(lines, title)


def targets() -> dict[Path, Path]:
    """Each text source and the PDF it becomes in the corpus folder."""
    return {source: CORPUS / f"{source.stem}.pdf" for source in sorted(SOURCES.glob("*.txt"))}


def main() -> None:
    for source, pdf in targets().items():
        pdf.write_bytes(render(source))
        print(f"wrote {pdf.relative_to(DATASETS.parents[1])}")


if __name__ == "__main__":
    main()
