"""A real browser: Debian's chromium, headless, driven by Selenium through Debian's chromedriver
(Selenium Manager would download a browser, which cannot work here; `make system-deps`
installs both packages)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
PAGE_LOAD_TIMEOUT_S = 30  # seconds a page may take to load
# Where the tests save a screenshot of each page they visit (gitignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
DESKTOP = (1280, 900)
PHONE = (390, 844)  # CSS pixels of a common phone, portrait


@contextmanager
def chromium(headers: Mapping[str, str] | None = None) -> Iterator[webdriver.Chrome]:
    """A headless chromium that sends `headers` with every request it makes."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    # What the pages answered (status codes), which no page shows when the browser refuses it.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        if headers:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": dict(headers)})
        yield driver
    finally:
        driver.quit()


def statuses(driver: webdriver.Chrome) -> dict[str, int]:
    """The status of each answer the browser received since it was last asked, by URL."""
    found = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            found[response["url"]] = response["status"]
    return found


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page, however long, as a PNG under SCREENSHOTS."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    width = driver.execute_script("return document.documentElement.scrollWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        path.write_bytes(driver.get_screenshot_as_png())
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
