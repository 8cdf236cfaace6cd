"""Main-content extraction for web pages, measured: how much of a page's body each way of reading it keeps, and how
much of its chrome (menus, headers, footers, side bars, cookie notices) it drops.

    python -m benchmarks.html_extraction [--page 'PATH|BODY[|IGNORED[|CHROME]]' ...]

Each page comes with CSS selectors chosen by hand: BODY the content regions, IGNORED what is neither (a byline,
a photo credit), CHROME what is chrome inside the body (a "Next/Previous" bar). Body sentences are the BODY text
as today's rules lay it out, split by the chunker (3 words or more); chrome lines are the lines those rules make
of everything else, less any line the body also holds. A sentence is kept, a line dropped, when its words (white
space aside) are, or are not, in what a candidate reads. The pages: the userdocs eval's press release, the test
pages, and the HTML manuals found on this machine (Rust book, Node.js and npm docs, Valgrind, libffi, Debian's
Python policy); ``--page`` adds more.

Candidates: ``rules`` (before: the whole page), ``markup`` (what the markup marks as chrome dropped, the one main
region it names), ``trafilatura`` and ``trafilatura-precision`` alone, and ``loader`` (what index.loading does:
markup, else trafilatura-precision, else the cleaned page).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from index.chunking import split_sentences
from index.loading import _TEXT_PARENTS, _extracted, _html_layout, _html_text, _marked_main

ROOT = Path(__file__).resolve().parents[1]
RUST = Path.home() / ".rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/book"


@dataclass(frozen=True)
class Page:
    """A page and the hand-chosen selectors that say what its body is."""

    name: str
    html: str
    body: str
    ignored: str = ""
    chrome: str = ""


def default_pages() -> list[Page]:
    from tests import pages

    pages_ = [
        Page("lumora-press-release.html",
             (ROOT / "evals/datasets/userdocs/lumora-press-release.html").read_text(encoding="utf-8"), "article"),
        Page("tests: semantic page", pages.semantic_page(), "article"),
        Page("tests: div page", pages.div_page(), "div.post"),
    ]
    found = [
        (RUST / "ch04-01-what-is-ownership.html", "main", ""),
        (RUST / "ch01-02-hello-world.html", "main", ""),
        (Path("/usr/share/doc/nodejs/api/documentation.html"), "#apicontent", ""),
        (Path("/usr/share/doc/nodejs/api/synopsis.html"), "#apicontent", ""),
        (Path("/usr/lib/node_modules/npm/docs/output/using-npm/scope.html"), "#_content", ""),
        (Path("/usr/share/doc/valgrind/html/manual-intro.html"), "div.chapter", ""),
        (Path("/usr/share/doc/libffi8/html/Introduction.html"), "div.chapter", "div.header"),
        (Path("/usr/share/doc/python3/python-policy.html"), "div.body", ""),
    ]
    pages_ += [Page(path.name, path.read_text(encoding="utf-8"), body, chrome=chrome)
               for path, body, chrome in found if path.is_file()]
    return pages_


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def trafilatura_balanced(html: str) -> str:
    """trafilatura's default mode alone (its inline code kept inline, as the loader does); the page if it finds
    nothing."""
    from trafilatura import extract

    out = extract(html, output_format="html", include_tables=True, include_images=True, include_links=False,
                  include_comments=False)
    if not out:
        return _html_layout(_soup(html))
    found = _soup(out)
    for pre in found.find_all("pre"):
        if pre.find_parent(_TEXT_PARENTS):
            pre.unwrap()
    return _html_layout(found)


def _markup(html: str) -> str:
    soup = _soup(html)
    return _html_layout(_marked_main(soup) or soup)


def _precision(html: str) -> str:
    soup = _soup(html)
    return _html_layout(_extracted(soup) or soup)


CANDIDATES: dict[str, Callable[[str], str]] = {
    "rules": lambda html: _html_layout(_soup(html)),
    "markup": _markup,
    "trafilatura": trafilatura_balanced,
    "trafilatura-precision": _precision,
    "loader": lambda html: _html_text(html)[0],
}


def _words(text: str) -> str:
    """Text without its layout marks (``#``, ``-`` at a line's start) and with white space as single spaces."""
    return " ".join(re.sub(r"^\s*(?:#+|[-*+]|\d+[.)])\s+", "", text, flags=re.M).split())


def truth(page: Page) -> tuple[list[str], list[str]]:
    """The page's body sentences and chrome lines (see the module docstring)."""
    soup = _soup(page.html)
    for tag in soup.select(page.chrome) if page.chrome else []:
        tag["data-chrome"] = "1"
    bodies = soup.select(page.body)
    for tag in bodies:
        tag["data-body"] = "1"
    for tag in soup.select(page.ignored) if page.ignored else []:
        for string in list(tag.find_all(string=True)):
            if not string.find_parent(attrs={"data-body": "1"}):
                string.extract()
    texts = []
    for body in soup.find_all(attrs={"data-body": "1"}):
        inside = [tag.extract() for tag in body.select("[data-chrome]")]
        texts.append(_html_layout(_soup(str(body))))
        body.replace_with(*inside) if inside else body.decompose()
    body_text = "\n\n".join(texts)
    sentences = [body_text[s:e] for s, e in split_sentences(body_text)]
    sentences = [s for s in sentences if len(re.findall(r"\w+", s)) >= 3]
    body_words = _words(body_text)
    chrome = [line for line in _html_layout(soup).split("\n")
              if re.search(r"[^\W\d_]", line) and _words(line) not in body_words]
    return sentences, chrome


def measure(pages: list[Page]) -> str:
    """A Markdown table: per page and candidate, body sentences kept and chrome lines dropped; totals and time."""
    totals = {name: [0, 0, 0, 0, 0.0] for name in CANDIDATES}
    rows = []
    for page in pages:
        sentences, chrome = truth(page)
        cells = [page.name, f"{len(sentences)} / {len(chrome)}"]
        for name, read in CANDIDATES.items():
            started = time.perf_counter()
            words = _words(read(page.html))
            seconds = time.perf_counter() - started
            kept = sum(_words(s) in words for s in sentences)
            dropped = sum(_words(line) not in words for line in chrome)
            total = totals[name]
            total[0] += kept
            total[1] += len(sentences)
            total[2] += dropped
            total[3] += len(chrome)
            total[4] += seconds
            cells.append(f"{kept} / {dropped}")
        rows.append(cells)
    header = ["page", "body sentences / chrome lines", *(f"{name}: kept / dropped" for name in CANDIDATES)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("| **all pages** | " + f"{totals['rules'][1]} / {totals['rules'][3]} | "
                 + " | ".join(f"**{t[0] / t[1]:.1%} / {t[2] / t[3]:.1%}**" for t in totals.values()) + " |")
    lines.append("| seconds | | " + " | ".join(f"{t[4]:.2f}" for t in totals.values()) + " |")
    return "\n".join(lines)


def _page(spec: str) -> Page:
    path, body, *rest = spec.split("|")
    ignored, chrome = (rest + ["", ""])[:2]
    return Page(Path(path).name, Path(path).read_text(encoding="utf-8"), body, ignored, chrome)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", action="append", default=[], help="PATH|BODY[|IGNORED[|CHROME]] (CSS selectors)")
    args = parser.parse_args(argv)
    print(measure(default_pages() + [_page(spec) for spec in args.page]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
