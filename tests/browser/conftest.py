"""The customer pages in a real headless Chromium: the distribution's `chromium`, driven by
Playwright for Python (which downloads no browser here), against the app served by uvicorn
in this process on a loopback port. axe-core (vendored) checks every page it is asked to.

A missing Chromium fails the tests with how to install it; it never skips them."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ledgerdesk import bootstrap
from tests.sse import served

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# What a page shows may take a while on two busy cores (the suite runs in parallel): wait
# up to 15 s for it rather than Playwright's 5 (a wait, never a timing assertion).
expect.set_options(timeout=15_000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = os.environ.get("LEDGERDESK_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "the browser tests need Chromium: install the distribution's package"
            " (apt-get install chromium), or set LEDGERDESK_CHROMIUM to its executable",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per module: Playwright's sync API keeps an event loop running in this
    thread while it is open, which later tests' own loops (anyio.run) would trip over."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Site:
    """The app served at `base`, and an admin's API client of the same app."""

    base: str
    admin: TestClient
    live: bootstrap.Container


@pytest.fixture
def site(live: bootstrap.Container, client: TestClient) -> Iterator[Site]:
    with served(live.http_app()) as base:
        yield Site(base, client, live)


@pytest.fixture
def page(chromium: Browser, site: Site) -> Iterator[Page]:
    context = chromium.new_context(base_url=site.base, locale="en-GB")
    # Into every document by the DevTools protocol: the pages' CSP allows no inline script.
    context.add_init_script(path=str(AXE))
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.wait_for_load_state("load")
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v.get("impact") in ("serious", "critical")]


def assert_accessible(page: Page) -> None:
    bad = accessibility_violations(page)
    summary = [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
        for v in bad
    ]
    assert not bad, json.dumps(summary, indent=1)


def screenshot(page: Page, name: str, language: str) -> None:
    """A full-page picture, kept as a test artefact in var/screenshots/<language>/."""
    folder = SCREENSHOTS / language
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
