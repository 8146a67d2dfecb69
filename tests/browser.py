"""A real browser for the web extension's tests: Debian's headless Chromium driven by Selenium
(chromium and chromium-driver from apt; nothing is downloaded). Every step can be screenshotted."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


def available() -> bool:
    """True when Debian's chromium and its driver are installed."""
    return Path(CHROMIUM).exists() and Path(DRIVER).exists()


class Browser:
    """One person's browser: their own cookies, downloads folder and screenshots."""

    taken = 0

    def __init__(self, base: str, downloads: Path, shots: Path | None = None) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100",
                    "--disable-gpu"):
            options.add_argument(arg)
        downloads.mkdir(parents=True, exist_ok=True)
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
        self.driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
        self.base, self.downloads, self.shots = base.rstrip("/"), downloads, shots

    def close(self) -> None:
        """Close the browser."""
        self.driver.quit()

    def go(self, path: str) -> None:
        """Open a page of the site."""
        self.driver.get(self.base + path)

    def login(self, user: str, password: str) -> None:
        """Sign in through CKAN's login form."""
        self.go("/user/login")
        self.driver.find_element(By.ID, "field-login").send_keys(user)
        self.driver.find_element(By.ID, "field-password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "form.form-horizontal button[type=submit], "
                                                  "#login-form button[type=submit], form button.btn-primary").click()
        self.wait_for(lambda: "/user/login" not in self.driver.current_url, "signing in")

    def logout(self) -> None:
        """Sign out (a fresh session)."""
        self.driver.delete_all_cookies()

    def text(self, css: str = "body") -> str:
        """The text a person reads in an element."""
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def click(self, css: str) -> None:
        """Click an element (scrolled to the middle of the window first, as a person would)."""
        element = self.driver.find_element(By.CSS_SELECTOR, css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
        except ElementClickInterceptedException:  # headless Chromium's window edge; the element is there
            self.driver.execute_script("arguments[0].click()", element)

    def click_link(self, words: str) -> None:
        """Click the link that says these words."""
        self.driver.find_element(By.PARTIAL_LINK_TEXT, words).click()

    def upload(self, path: Path) -> None:
        """Choose a file in the upload form and press Upload."""
        self.driver.find_element(By.ID, "workbook").send_keys(str(path))
        self.click("#upload-button")

    def download(self, css: str, timeout: float = 60) -> Path:
        """Click a download link and wait for the file to land."""
        before = set(self.downloads.iterdir())
        self.click(css)
        found: list[Path] = []

        def landed() -> bool:
            # Chrome puts an empty file under the final name beside its .crdownload at the start: the file
            # has landed when no .crdownload is left and it has its bytes
            fresh = set(self.downloads.iterdir()) - before
            if any(p.name.endswith(".crdownload") for p in fresh):
                return False
            new = [p for p in fresh if not p.name.startswith(".") and p.stat().st_size > 0]
            found.extend(new)
            return bool(new)
        self.wait_for(landed, "the download", timeout)
        return found[0]

    def wait_for(self, done: Any, what: str, timeout: float = 60) -> None:
        """Wait until ``done()`` is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if done():
                    return
            except Exception:  # noqa: BLE001 (the page is still loading)
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the page says: {self.text()[:500]}")

    def shot(self, name: str) -> Path | None:
        """A screenshot of the whole page, numbered in the order taken."""
        if self.shots is None:
            return None
        self.shots.mkdir(parents=True, exist_ok=True)
        Browser.taken += 1  # one numbering for every browser of the run: the order the steps happened in
        path = self.shots / f"{Browser.taken:02d}-{name}.png"
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(1280, max(900, min(int(height) + 40, 4000)))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 1100)
        return path


def keep(src: Path, dst: Path) -> Path:
    """Copy a downloaded file away before the next download of the same name."""
    shutil.copy(src, dst)
    return dst
