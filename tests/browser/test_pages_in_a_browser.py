"""The pages in a real browser (headless chromium), against a `tuxhook receiver` process whose
store a `tuxhook worker` process filled from signed callbacks: each page opens, the links lead
from home to a build to a test, the search form submits, a phone reads the pages without
scrolling sideways, and a visit without credentials is refused. Each page is saved as a
screenshot under screenshots/."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.expected_conditions import staleness_of, url_contains
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.api import CALLBACK
from tests.support.browser import PHONE, chromium, screenshot, statuses
from tests.support.builders import encode, signed_headers
from tests.support.keys import KeyPair
from tests.support.processes import Process, run_tuxhook, start_receiver
from tests.support.redis_server import free_port
from tests.support.scenario import PROJECT, Scenario
from tests.support.users import read_headers

pytestmark = pytest.mark.slow
NAVIGATION_TIMEOUT_S = 10.0  # seconds a click may take to load the next page


def post(url: str, keys: KeyPair, doc: dict[str, object]) -> None:
    body = encode(doc)
    request = urllib.request.Request(url + CALLBACK, body, signed_headers(keys, body))
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 202, resp.read()


@pytest.fixture
def served(settings_env: dict[str, str], keys: KeyPair, tmp_path: Path) -> Iterator[str]:
    """A receiver process, and what a worker process stored from the scenario's callbacks."""
    port = free_port()
    receiver: Process = start_receiver(settings_env, port, tmp_path / "receiver.log")
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        receiver.stop()


@pytest.fixture
def scenario(served: str, settings_env: dict[str, str], keys: KeyPair) -> Scenario:
    plan = Scenario()
    for doc in plan.documents():
        post(served, keys, doc)
    worker = run_tuxhook(settings_env, "worker", "--burst")
    assert worker.returncode == 0, worker.stdout + worker.stderr
    return plan


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium(read_headers()) as driver:
        yield driver


def heading(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def arrived(driver: WebDriver, old: WebElement, url_part: str) -> None:
    """Wait for the page that a click or a submission loads instead of the one it left."""
    WebDriverWait(driver, NAVIGATION_TIMEOUT_S).until(staleness_of(old))
    WebDriverWait(driver, NAVIGATION_TIMEOUT_S).until(url_contains(url_part))


def follow(driver: WebDriver, href: str) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f'a[href="{href}"]').click()
    arrived(driver, old, href)


def home_to_a_build_to_a_test(browser: WebDriver, served: str, scenario: Scenario) -> None:
    browser.get(served + "/")
    assert heading(browser) == "Projects" and PROJECT in browser.page_source
    screenshot(browser, "home")
    follow(browser, f"/outcomes/build/{scenario.build}")
    assert heading(browser).startswith(f"build {scenario.build}")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.outcomes tbody tr")
    assert len(rows) == 2 and "fail" in rows[0].text + rows[1].text
    screenshot(browser, "build")
    follow(browser, f"/outcomes/test/{scenario.failed}")
    assert heading(browser).startswith(f"test {scenario.failed}")
    assert "ltp-syscalls" in browser.find_element(By.CSS_SELECTOR, "table.results").text
    screenshot(browser, "test")
    follow(browser, f"/outcomes/build/{scenario.build}")  # what the test waited for


def the_other_outcome_pages(browser: WebDriver, served: str, scenario: Scenario) -> None:
    for kind in ("oebuild", "plan"):
        uid = getattr(scenario, kind)
        browser.get(f"{served}/outcomes/{kind}/{uid}")
        assert heading(browser).startswith(f"{kind} {uid}")
        screenshot(browser, kind)
        follow(browser, f"/v1/outcomes/{kind}/{uid}")  # its JSON twin
        assert json.loads(browser.find_element(By.TAG_NAME, "pre").text)["uid"] == uid


def the_search_form(browser: WebDriver, served: str, scenario: Scenario) -> None:
    browser.get(served + "/outcomes")
    browser.find_element(By.NAME, "project").send_keys(PROJECT)
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("test")
    Select(browser.find_element(By.NAME, "result")).select_by_visible_text("fail")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    arrived(browser, old, "result=fail")
    assert "kind=test" in browser.current_url
    links = browser.find_elements(By.CSS_SELECTOR, "table.outcomes a.uid")
    assert [a.text for a in links] == [scenario.failed]
    screenshot(browser, "search")


def on_a_phone(browser: WebDriver, served: str, scenario: Scenario) -> None:
    """Nothing wider than a phone's screen: tables scroll within themselves."""
    browser.set_window_size(*PHONE)
    width = browser.execute_script("return window.innerWidth")
    for name, path in [
        ("phone-home", "/"),
        ("phone-build", f"/outcomes/build/{scenario.build}"),
        ("phone-test", f"/outcomes/test/{scenario.failed}"),
        ("phone-search", f"/outcomes?project={PROJECT}"),
    ]:
        browser.get(served + path)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        screenshot(browser, name)


def test_a_reader_walks_the_pages(browser: WebDriver, served: str, scenario: Scenario) -> None:
    home_to_a_build_to_a_test(browser, served, scenario)
    the_other_outcome_pages(browser, served, scenario)
    the_search_form(browser, served, scenario)
    on_a_phone(browser, served, scenario)


def test_a_visit_without_credentials_is_refused(served: str, scenario: Scenario) -> None:
    with chromium() as anonymous:
        anonymous.get(served + "/")
        assert statuses(anonymous)[served + "/"] == 401
        assert PROJECT not in anonymous.page_source
