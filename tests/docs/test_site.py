"""The documentation site works in a real browser (issue 15, point 3).

The site is built with ``mkdocs build --strict`` (conftest's ``built_site``), served over HTTP
on 127.0.0.1 by a ``http.server`` thread, and opened in headless Chromium from the system's
packages (``/usr/bin/chromium``, Debian's ``chromium``: ``./dev setup`` installs it when run
as root), driven by Playwright, which never downloads a browser here. The tests check the
home page, an API reference page, the search and the light/dark toggle, and that no page
logs a console error or gets an HTTP error for any of its files. Each test saves a
full-page screenshot into ``build/screenshots/`` (git-ignored) for review.

Without Chromium the browser tests skip, saying so. One more test reads the built pages
without a browser: every public name has its entry in the API reference.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.servers import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
#: How long one browser step may wait for the page (ms): generous for a loaded 2-core machine.
STEP_TIMEOUT_MS = 30_000


def _chromium() -> str | None:
    """The system's Chromium: ``$GRADIO_JOBS_CHROMIUM``, else ``chromium`` on the PATH or in /usr/bin."""
    for candidate in (os.environ.get("GRADIO_JOBS_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class _Handler(SimpleHTTPRequestHandler):
    """Serves the built site quietly and records every request the server answered with an error."""

    errors: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, int) and code >= 400:  # an HTTPStatus; "-" when there is none
            self.errors.append(f"{code} {self.path}")


@dataclass
class Site:
    """The served site: its base ``url`` (ending in ``/``) and the requests it answered with an error."""

    url: str
    server_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(built_site: Path) -> Iterator[Site]:
    """Serve the built site on a free port of 127.0.0.1 for this module's tests."""
    errors: list[str] = []
    handler = type("Handler", (_Handler,), {"errors": errors})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, name="docs-site", daemon=True)
    thread.start()
    try:
        yield Site(url=f"http://127.0.0.1:{server.server_address[1]}/", server_errors=errors)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system, through Playwright (no browser download)."""
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "no Chromium: install Debian's `chromium` package (./dev setup does, as root), "
            "or point GRADIO_JOBS_CHROMIUM at a Chromium binary"
        )
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Visit:
    """A browser page and what went wrong while it was open."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as ``build/screenshots/<name>.png`` and return its path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path


@pytest.fixture
def visit(browser: Any, site: Site) -> Iterator[Visit]:
    """A fresh page; after the test, checks that nothing logged a console error or failed to load."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    seen = Visit(page)

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.console_errors.append(message.text)

    def on_request_failed(request: Any) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):  # not a request the next navigation cancelled
            seen.failed_requests.append(f"{request.url}: {request.failure}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            seen.failed_requests.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    before = len(site.server_errors)
    try:
        yield seen
        assert seen.console_errors == [], "the page logged errors"
        assert seen.failed_requests == [], "some of the page's files did not load"
        assert site.server_errors[before:] == [], "the site answered requests with an error"
    finally:
        context.close()


def test_home_page_renders(visit: Visit, site: Site) -> None:
    page = visit.page
    page.goto(site.url)
    assert "gradio-jobs" in page.title()
    tabs = page.locator(".md-tabs__link")
    tab_names = [name.strip() for name in tabs.all_inner_texts()]
    for expected in ("Home", "Guide", "API reference"):
        assert expected in tab_names, tab_names
    code = page.locator("article .highlight code").first
    code.wait_for(state="visible")
    assert "gradio_jobs" in code.inner_text()
    # the copy button of Material's content.code.copy
    assert page.locator("article .highlight button[data-md-type='copy']").count() >= 1
    visit.screenshot("home")


def test_api_reference_documents_the_client(visit: Visit, site: Site) -> None:
    page = visit.page
    page.goto(site.url + "reference/clients/")
    heading = page.locator(r"#gradio_jobs\.Client")
    heading.wait_for(state="visible")
    assert "Client" in heading.inner_text()
    # submit's signature is the real one (parameters_of), not *args/**kwargs alone
    submit = page.locator(r"#gradio_jobs\.Client\.submit")
    submit.wait_for(state="visible")
    signature = submit.locator("xpath=following-sibling::div[contains(@class, 'doc-signature')][1]").inner_text()
    for parameter in ("api_name", "fn_index", "deadline", "on_status"):
        assert parameter in signature, signature
    visit.screenshot("reference-clients")
    # the docstring's :class: roles became links to the objects' reference
    options_link = page.locator(
        r"#gradio_jobs\.Client ~ div a.autorefs-internal[href*='options/#gradio_jobs.ClientOptions']"
    )
    assert options_link.count() >= 1
    options_link.first.click()
    page.wait_for_url(re.compile(r".*/reference/options/#gradio_jobs\.ClientOptions$"))
    page.locator(r"#gradio_jobs\.ClientOptions").wait_for(state="visible")
    page.wait_for_load_state("load")


def test_search_finds_as_completed(visit: Visit, site: Site) -> None:
    page = visit.page
    page.goto(site.url)
    query = page.locator("input.md-search__input")
    query.click()  # the header's search box (on a wide window it is shown, not behind an icon)
    query.press_sequentially("as_completed", delay=20)  # typed: Material searches on key events
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(state="visible")
    targets = [link.get_attribute("href") or "" for link in results.all()]
    assert any("many-jobs" in target for target in targets), targets
    visit.screenshot("search")
    # the reference's entry for the function itself leads to its documentation
    reference = page.locator(
        ".md-search-result__item a[href*='reference/many-jobs/'][href$='#gradio_jobs.as_completed']"
    )
    reference.first.click()
    page.wait_for_url(re.compile(r".*/reference/many-jobs/.*#gradio_jobs\.as_completed$"))
    page.locator(r"#gradio_jobs\.as_completed").wait_for(state="visible")


def test_dark_mode_toggle(visit: Visit, site: Site) -> None:
    page = visit.page
    page.goto(site.url + "reference/jobs/")
    body = page.locator("body")
    scheme = body.get_attribute("data-md-color-scheme")
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    page.wait_for_function("previous => document.body.getAttribute('data-md-color-scheme') !== previous", arg=scheme)
    assert {scheme, body.get_attribute("data-md-color-scheme")} == {"default", "slate"}
    visit.screenshot("reference-jobs-dark" if scheme == "default" else "reference-jobs-light")


#: Public names the reference mentions in prose rather than under a heading of their own.
_PROSE_ONLY = {
    "__version__",  # a string
    "ALL_COMPLETED",  # wait()'s return_when values: in the text beside wait()
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "QueueError",  # another name of QueueFullError
}


def test_every_public_name_is_in_the_reference(built_site: Path) -> None:
    """Each public class and function has its own entry in the API reference (a new one gets a page entry)."""
    import gradio_jobs
    import gradio_jobs.ray
    from gradio_jobs import events, exceptions

    documented: set[str] = set()
    for page in (built_site / "reference").rglob("index.html"):
        documented |= set(re.findall(r'id="(gradio_jobs[\w.]*)"', page.read_text()))
    homes = ("gradio_jobs", "gradio_jobs.exceptions", "gradio_jobs.data_classes")
    wanted = {
        name: [f"{home}.{name}" for home in homes]
        for name in gradio_jobs.__all__
        if name not in _PROSE_ONLY and not isinstance(getattr(gradio_jobs, name), type(gradio_jobs))
    }
    wanted |= {f"exceptions.{name}": [f"gradio_jobs.exceptions.{name}"] for name in exceptions.__all__}
    wanted |= {f"events.{name}": [f"gradio_jobs.events.{name}"] for name in events.__all__}
    wanted |= {f"ray.{name}": [f"gradio_jobs.ray.{name}"] for name in gradio_jobs.ray.__all__}
    wanted.pop("exceptions.QueueError")
    missing = sorted(name for name, ids in wanted.items() if not documented.intersection(ids))
    assert missing == [], "add these to a page of docs/reference/"
