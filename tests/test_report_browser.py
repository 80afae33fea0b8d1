"""The HTML report in a real headless Chromium: no console errors, every plot drawn, nothing fetched.

Needs the ``chromium`` system package and the ``playwright`` Python package (its bundled
browsers are not used: ``playwright install`` is never run). Without them the tests skip,
unless ``REWARDLAB_REQUIRE_BROWSER=1`` (set by CI), where they fail instead.
``REWARDLAB_CHROMIUM`` overrides the browser path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from rewardlab.report import write_report
from test_report_rundir import PROBES, SCRIPT, full_run, minimal_run

FULL_PLOTS = ("training-loss", "training-accuracy", "reward-distributions", "reward-margins", "reliability",
              "reward-vs-length")
SECTIONS = ("verdict", "training", "rewards", "calibration", "breakdowns", "length", "probes", "suite", "details")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("REWARDLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"REWARDLAB_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str | None:
    override = os.environ.get("REWARDLAB_CHROMIUM")
    if override:
        return override if Path(override).is_file() else None
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)


def playwright_and_chromium() -> tuple[Any, str]:
    """playwright's ``sync_playwright`` and the Chromium to drive; skips (or fails under CI) without them."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install playwright)")
    executable = _chromium()
    if executable is None:
        _unavailable("no Chromium found (apt-get install chromium, or set REWARDLAB_CHROMIUM)")
    return sync_playwright, executable


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium (fresh, empty profile) shared by this module's tests."""
    sync_playwright, executable = playwright_and_chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, offline=True)
        try:
            yield context
        finally:
            context.close()


class Opened:
    """A page opened on a report, with everything it logged and requested."""

    def __init__(self, context: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url, wait_until="load")

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]

    def box(self, selector: str) -> dict[str, float] | None:
        return self.page.locator(selector).first.bounding_box()


@pytest.fixture()
def full_page(browser: Any, tmp_path: Path) -> Iterator[Opened]:
    opened = Opened(browser, write_report(full_run(tmp_path / "full")))
    yield opened
    opened.page.close()


def test_full_report_loads_without_console_errors_or_network(full_page: Opened) -> None:
    assert full_page.errors == []
    assert full_page.foreign_requests() == []
    assert full_page.page.locator("script").count() == 0


def test_every_plot_is_present_and_rendered(full_page: Opened) -> None:
    page = full_page.page
    assert sorted(page.locator("figure.plot").evaluate_all("els => els.map(e => e.dataset.plot)")) == sorted(FULL_PLOTS)
    for plot in FULL_PLOTS:
        box = full_page.box(f'figure.plot[data-plot="{plot}"] svg')
        assert box is not None and box["width"] > 200 and box["height"] > 100, (plot, box)
        assert page.locator(f'figure.plot[data-plot="{plot}"] svg title').count() > 3, plot  # tooltips


def test_key_text_is_visible(full_page: Opened) -> None:
    page = full_page.page
    assert page.locator("#verdict .badge").first.inner_text() == "USABLE"
    assert "74.2%" in page.locator("#verdict .big").inner_text()
    summary = page.locator("#summary").inner_text()
    assert "usable band" in summary and "math-017" in summary
    probes = page.locator("#probes table").inner_text()
    for name in PROBES:
        assert name in probes
    failures = page.locator("#suite table.failures").inner_text()
    assert "math-017" in failures and "refusal-003" in failures
    for sid in SECTIONS:
        assert page.locator(f"#{sid}").is_visible(), sid


def test_script_in_a_response_is_shown_as_text_not_run(full_page: Opened) -> None:
    page = full_page.page
    assert page.title() != "pwned"
    prompt = page.locator("#suite table.failures").get_by_text(SCRIPT)  # the failure's prompt, as text
    assert prompt.count() == 1 and prompt.is_visible()


def test_print_layout_expands_examples_and_keeps_plots(full_page: Opened) -> None:
    page = full_page.page
    example = page.locator('details.examples[data-probe="flattery"] .example').first
    assert not example.is_visible()
    page.emulate_media(media="print")
    assert example.is_visible()
    assert not page.locator("nav").is_visible()
    box = full_page.box('figure.plot[data-plot="reliability"] svg')
    assert box is not None and box["width"] > 200


def test_narrow_screen_has_no_horizontal_page_scroll(full_page: Opened) -> None:
    page = full_page.page
    page.set_viewport_size({"width": 400, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    box = full_page.box('figure.plot[data-plot="reward-vs-length"] svg')
    assert box is not None and 0 < box["width"] <= 400


def test_report_without_optional_files_loads_cleanly_and_says_what_is_missing(browser: Any, tmp_path: Path) -> None:
    opened = Opened(browser, write_report(minimal_run(tmp_path / "min")))
    page = opened.page
    try:
        assert opened.errors == [] and opened.foreign_requests() == []
        assert page.locator("figure.plot").count() == 0
        assert page.locator(".unavailable").count() >= 6
        assert page.locator("#verdict .badge").first.inner_text() == "RISKY"
        for sid in SECTIONS:
            assert page.locator(f"#{sid}").is_visible(), sid
    finally:
        page.close()


OVERFLOW_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('.table-wrap, td, th, .tile, .tile-value, .kv td, figure.plot, .card')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const where = el.closest('section');
      out.push(`${where ? where.id : '?'} ${el.tagName.toLowerCase()}.${el.className}: ` +
               `${el.scrollWidth} > ${el.clientWidth} "${el.innerText.slice(0, 40)}"`);
    }
  }
  return out;
}"""


def test_nothing_overflows_at_1280_px(full_page: Opened, tmp_path: Path) -> None:
    page = full_page.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(tmp_path / "report-1280.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(OVERFLOW_JS) == []
