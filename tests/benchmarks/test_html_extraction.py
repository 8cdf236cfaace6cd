"""benchmarks/html_extraction.py: the measure behind the loader's choice of main-content extraction stays runnable,
and on the pages this repository holds the loader keeps every body sentence and drops every chrome line."""

from __future__ import annotations

from benchmarks.html_extraction import Page, default_pages, measure, truth
from tests import pages


def test_the_ground_truth_splits_a_page_into_body_sentences_and_chrome_lines():
    sentences, chrome = truth(Page("semantic", pages.semantic_page(), "article"))
    assert "Le pont Paul-Doumer a été inauguré en 1902 ; sa restauration s'achèvera en 2027." in sentences
    assert "Copyright 2024 Báo Sông Hồng. All rights reserved." in chrome
    assert not set(sentences) & set(chrome)


def test_the_loader_reads_the_repositorys_pages_whole_and_without_chrome():
    repository = [page for page in default_pages() if page.name.startswith(("lumora", "tests:"))]
    assert len(repository) == 3
    table = measure(repository)
    for page in repository:
        sentences, chrome = truth(page)
        row = next(line for line in table.splitlines() if line.startswith(f"| {page.name} |"))
        assert row.endswith(f"| {len(sentences)} / {len(chrome)} |"), row  # the loader's column: all kept, all dropped
