"""The pages in a real browser (headless chromium), against a `tuxhook receiver` process whose
store a `tuxhook worker` process filled from signed callbacks: each page opens, the links lead
from home to a build to a test, the search form submits, a regression is seen marked, a phone
reads the pages without scrolling sideways, and a visit without credentials is refused. Each
page is saved as a screenshot under screenshots/."""

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
from tests.support.scenario import PROJECT, Earlier, Scenario
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


def store(
    served: str, settings_env: dict[str, str], keys: KeyPair, docs: list[dict[str, object]]
) -> None:
    """Post the callbacks, then store them with a `tuxhook worker` process."""
    for doc in docs:
        post(served, keys, doc)
    worker = run_tuxhook(settings_env, "worker", "--burst")
    assert worker.returncode == 0, worker.stdout + worker.stderr


@pytest.fixture
def scenario(served: str, settings_env: dict[str, str], keys: KeyPair) -> Scenario:
    plan = Scenario()
    store(served, settings_env, keys, plan.documents())
    return plan


@pytest.fixture
def turned(served: str, settings_env: dict[str, str], keys: KeyPair) -> Scenario:
    """The scenario after a run of its environment on the commit before: its failed test's
    ltp-syscalls passed there (a regression), its boot failed (a fix)."""
    plan = Scenario()
    store(served, settings_env, keys, Earlier().documents() + plan.documents())
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


def marks(element: WebElement) -> list[str]:
    """The regressions and fixes marked in an element, as a reader sees them: symbol and word."""
    return [m.text for m in element.find_elements(By.CSS_SELECTOR, ".c")]


def test_a_reader_sees_a_regression_marked(
    browser: WebDriver, served: str, turned: Scenario
) -> None:
    browser.get(served + "/")
    latest = browser.find_element(By.CSS_SELECTOR, "section.latest-changes")
    assert sorted(marks(latest)) == ["▲ fix", "▼ regression"]
    screenshot(browser, "home-regressions")
    follow(browser, f"/outcomes/build/{turned.build}")
    failed = browser.find_element(
        By.XPATH, f'//table[@class="outcomes"]//tr[.//a[@href="/outcomes/test/{turned.failed}"]]'
    )
    assert "▼ regression ltp-syscalls" in failed.text and "▲ fix boot" in failed.text
    screenshot(browser, "build-regression")
    follow(browser, f"/outcomes/test/{turned.failed}")
    results = browser.find_element(By.CSS_SELECTOR, "table.results").text
    assert "ltp-syscalls ✗ fail ▼ regression was ✓ pass v6.6-rc6" in results
    screenshot(browser, "test-regression")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.LINK_TEXT, "regressions").click()  # the header's link
    arrived(browser, old, "/regressions")
    assert heading(browser) == "Regressions and fixes"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")
    assert sorted(marks(rows[0]) + marks(rows[1])) == ["▲ fix", "▼ regression"]
    screenshot(browser, "regressions")
    Select(browser.find_element(By.NAME, "type")).select_by_visible_text("regression")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    arrived(browser, old, "type=regression")
    (row,) = browser.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")
    assert marks(row) == ["▼ regression"] and "ltp-syscalls" in row.text
    browser.set_window_size(*PHONE)
    browser.get(served + "/regressions")
    width = browser.execute_script("return window.innerWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    screenshot(browser, "phone-regressions")


def test_a_visit_without_credentials_is_refused(served: str, scenario: Scenario) -> None:
    with chromium() as anonymous:
        for path in ("/", "/regressions"):
            anonymous.get(served + path)
            assert statuses(anonymous)[served + path] == 401
            assert PROJECT not in anonymous.page_source
