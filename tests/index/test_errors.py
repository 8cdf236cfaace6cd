"""index/errors.py: ``raised_by`` tells a library's own exception from the same type raised by our code."""

from __future__ import annotations

import sqlite3

import pytest

from index.catalog import Catalog
from index.errors import raised_by


def caught(call) -> BaseException:
    with pytest.raises(BaseException) as info:
        call()
    return info.value


def test_an_error_raised_inside_the_library_is_the_librarys():
    from chromadb.api.base_http_client import BaseHTTPClient

    exc = caught(lambda: BaseHTTPClient._validate_host("localhost/chroma"))
    assert isinstance(exc, ValueError)
    assert raised_by(exc, "chromadb") and not raised_by(exc, "pypdf")


def test_an_error_our_code_raises_through_a_library_is_ours(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.close()
    exc = caught(catalog.count_chunks)  # sqlite3 raises, on behalf of index.catalog
    assert isinstance(exc, sqlite3.Error)
    assert not raised_by(exc, "chromadb")


def test_an_error_that_never_passed_through_the_library_is_not_its():
    assert not raised_by(caught(lambda: int("x")), "chromadb")
    assert not raised_by(ValueError("never raised"), "chromadb")
