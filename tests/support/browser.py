"""A real browser for the tests: Debian's headless Chromium, driven through its chromedriver.

What a learner sees is a page, not a JSON body: a ``/docs`` whose JavaScript comes from a CDN answers 200 and
is still blank offline. So a page test loads the URL in Chromium and asserts on what the browser did:

* ``requests``: every URL the page asked for (the DevTools ``Network.requestWillBeSent`` events of Chrome's
  performance log), so "nothing left 127.0.0.1" is a fact, not a guess;
* ``console_errors``: the page's console at level SEVERE (a script that failed to load or threw);
* the DOM, queried with CSS selectors once the page has drawn what ``wait_for`` names.

Only the system browser is used (``/usr/bin/chromium`` + ``/usr/bin/chromedriver``, Debian packages
``chromium chromium-driver``): selenium's own driver manager would download one, which cannot work here and
must not be tried. Without them, :func:`chromium` skips with the install command. Chromium is pointed at a
proxy that refuses (``127.0.0.1:9``; loopback bypasses proxies), so a request for the internet fails at once
and is still recorded, instead of hanging or reaching out.

Used as ``with chromium() as browser: page = browser.load(url, wait_for=".opblock")`` or through the
``browser`` fixture (tests/conftest.py): one browser per test module, a fresh tab state per load.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.speed import scaled

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "apt-get install -y chromium chromium-driver"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
# Schemes that never touch the network: inline data, in-page objects, the browser's own pages.
LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-extension", "devtools"})


def missing() -> str | None:
    """Why a browser test cannot run here (None: it can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is missing: {INSTALL_HINT}"
    return None


@dataclass
class PageLoad:
    """What the browser did for one URL: the requests it made, the errors it logged, the DOM it drew."""

    url: str
    requests: list[str]
    console_errors: list[str]
    driver: object = field(repr=False)  # selenium WebDriver, kept for DOM queries

    def select(self, css: str) -> list:
        """Elements matching ``css`` in the loaded page (selenium ``WebElement`` objects)."""
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)  # type: ignore[attr-defined]

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.select(css)]

    @property
    def html(self) -> str:
        return self.driver.page_source  # type: ignore[attr-defined]

    def offsite_requests(self, allowed: frozenset[str] = LOCAL_HOSTS) -> list[str]:
        """Requests to any host but loopback: each one is an asset a learner offline would not get."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname not in allowed and f"[{parts.hostname}]" not in allowed:
                out.append(url)
        return out


class Browser:
    """One headless Chromium session. ``load`` drains the logs first, so each PageLoad has only its own."""

    def __init__(self, window: tuple[int, int] = (1400, 1000)) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={window[0]},{window[1]}", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--proxy-server=http://127.0.0.1:9"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(scaled(30))

    def close(self) -> None:
        self.driver.quit()

    def _drain(self) -> None:
        for kind in ("performance", "browser"):
            self.driver.get_log(kind)

    def load(self, url: str, wait_for: str | None = None, timeout: float = 20.0) -> PageLoad:
        """Open ``url``; wait (deadline stretched with the machine's load) until ``wait_for`` (a CSS selector)
        is in the DOM, then collect the requests and console errors the page produced."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get("about:blank")
        self._drain()
        self.driver.get(url)
        if wait_for is not None:
            try:
                WebDriverWait(self.driver, scaled(timeout), poll_frequency=0.1).until(
                    expected_conditions.presence_of_element_located((By.CSS_SELECTOR, wait_for)))
            except TimeoutException:
                errors = self._console_errors()
                raise AssertionError(f"{url}: {wait_for!r} never appeared within {timeout:g}s (scaled); console "
                                     f"errors: {errors or 'none'}; requests: {self._requests()}") from None
        return PageLoad(url=url, requests=self._requests(), console_errors=self._console_errors(), driver=self.driver)

    def _requests(self) -> list[str]:
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def _console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def screenshot(self, path: Path) -> Path:
        """Save what the browser shows (for a failing test's report, or a human)."""
        self.driver.save_screenshot(str(path))
        return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless system Chromium for the block; skips the test (naming the install command) if there is none."""
    reason = missing()
    if reason is not None:
        pytest.skip(f"no browser for this test: {reason}")
    browser = Browser()
    try:
        yield browser
    finally:
        browser.close()
