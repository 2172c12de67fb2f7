"""The data page with named sources (issue 26): a source and a table picked, read and
validated as an upload is; without sources the page offers the upload alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._databases import example_sources_file
from tests.service._server import Server


@pytest.fixture(scope="module")
def sources_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose operator named a SQLite database with the example as ``weekly``."""
    home = tmp_path_factory.mktemp("web-sources")
    sources = example_sources_file(home, queries=True)
    srv = Server(home, BAYESMMM_SOURCES_FILE=str(sources))
    srv.start()
    yield srv
    srv.kill()


def test_a_named_source_is_read_and_validated_as_an_upload(
        sources_server: Server, open_page: Any, screenshots: Path) -> None:
    page, _ = open_page(sources_server.url)
    page.goto(f"{sources_server.url}/#/data")
    page.wait_for_selector("#named-source:not([hidden])")
    assert "warehouse — Weekly sales" in page.inner_text("#source-name")
    assert page.input_value("#source-table") == "weekly"
    page.click("#source-read")
    page.wait_for_selector("#validation-summary.ok")
    assert "source:warehouse/weekly: 179 rows" in page.inner_text("#upload .file-line")
    assert page.input_value("#map-date_column") == "date_week"
    assert "The data passes: 179 rows" in page.inner_text("#validation-summary")
    page.screenshot(path=str(screenshots / "01b-named-source.png"), full_page=True)
    # a query the service refuses reads as a sentence, and nothing is lost
    page.fill("#source-query", "DELETE FROM weekly")
    page.click("#source-read")
    alert = page.wait_for_selector("#alert:not([hidden])").inner_text()
    assert "it starts with SELECT or WITH, got 'DELETE'" in alert


def test_without_sources_the_page_offers_the_upload_alone(server: Server,
                                                          open_page: Any) -> None:
    page, _ = open_page(server.url)
    page.goto(f"{server.url}/#/data")
    page.wait_for_selector("#dropzone")
    page.wait_for_load_state("networkidle")
    assert page.is_hidden("#named-source")
