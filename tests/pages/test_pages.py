"""The pages over real stored outcomes: each renders what its JSON twin answers, links to it
and to the outcomes it names, and is sent with a policy that loads nothing from elsewhere."""

from __future__ import annotations

import re
from typing import Any

import pytest

from receiver.outcomes import filter_fields
from tests.conftest import Receiver
from tests.support.api import get_json
from tests.support.pages import get_page
from tests.support.scenario import PROJECT, Scenario


def hrefs(page: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*)"', page)]


async def test_home_shows_each_projects_latest_builds_with_their_tests_counted(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, "/")
    assert PROJECT in page and "/v1/overview" in hrefs(page)
    assert f"/outcomes/build/{scenario.build}" in hrefs(page)
    assert f"/outcomes/plan/{scenario.plan}" in hrefs(page)
    status, twin = await get_json(receiver, "/v1/overview")
    assert status == 200
    (project,) = twin["projects"]
    (build,) = project["builds"]
    assert build["uid"] == scenario.build
    assert build["test_counts"] == {"pass": 1, "fail": 1, "error": 0, "not_final": 0}
    assert [p["uid"] for p in project["plans"]] == [scenario.plan]


async def test_home_counts_only_the_projects_updated_since(
    receiver: Receiver, scenario: Scenario
) -> None:
    status, twin = await get_json(receiver, "/v1/overview?since=2999-01-01T00:00:00Z")
    assert (status, twin["projects"]) == (200, [])
    assert "No outcome stored since then" in await get_page(receiver, "/?since=2999-01-01")
    status, body = await get_json(receiver, "/v1/overview?project=x")
    assert (status, body["error"]) == (400, "invalid_parameter")


async def test_a_build_page_lists_its_tests_and_links_them(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, f"/outcomes/build/{scenario.build}")
    links = hrefs(page)
    assert f"/v1/outcomes/build/{scenario.build}" in links
    assert f"/v1/outcomes?kind=test&build_uid={scenario.build}&limit=500" in links
    for test in (scenario.passed, scenario.failed):
        assert f"/outcomes/test/{test}" in links
    assert (
        "https://storage.tuxsuite.com/public/demo/demo/builds/2QpE0aJbVn6S1rKx9WmT3yZcH4u/build.log"
        in links
    )
    assert "gcc-13-lkftconfig" in page and "git_describe" in page


async def test_a_test_page_shows_its_suites_and_what_it_waited_for(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, f"/outcomes/test/{scenario.failed}")
    assert f"/outcomes/build/{scenario.build}" in hrefs(page)
    suites = re.findall(r"<tr><td>([^<]+)</td><td><span class=\"v v-(\w+)\"", page)
    assert suites == [("boot", "pass"), ("ltp-syscalls", "fail")]


async def test_an_oebuild_page_links_the_tests_that_waited_for_it(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, f"/outcomes/oebuild/{scenario.oebuild}")
    assert f"/outcomes/test/{scenario.on_oebuild}" in hrefs(page)
    assert "dragonboard-845c" in page and "rpb-console-image" in page
    test_page = await get_page(receiver, f"/outcomes/test/{scenario.on_oebuild}")
    assert f"/outcomes/oebuild/{scenario.oebuild}" in hrefs(test_page)


async def test_a_plan_page_shows_its_builds_and_tests_by_environment(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, f"/outcomes/plan/{scenario.plan}")
    assert "lkft-sanity" in page and f"/v1/outcomes/plan/{scenario.plan}" in hrefs(page)
    assert f"/v1/outcomes?plan={scenario.plan}&limit=500" in hrefs(page)
    matrix = page[page.index('<table class="matrix">') :]
    environments = re.findall(r"<tr><td>(\w+)</td><td>([^<]+)</td>", matrix)
    assert environments == [
        ("build", "arm64 gcc-13"),
        ("oebuild", "dragonboard-845c"),
        ("test", "qemu-arm64"),
        ("test", "qemu-x86_64"),
    ]


async def test_the_search_form_offers_every_filter_of_the_api(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, "/outcomes")
    names = re.findall(r'<(?:input|select) [^>]*name="(\w+)"', page)
    assert names == [name for name, _ in filter_fields()]


async def test_a_search_is_the_apis_answer_rendered(receiver: Receiver, scenario: Scenario) -> None:
    query = f"project={PROJECT}&kind=test&result=&device="
    page = await get_page(receiver, f"/outcomes?{query}")
    status, twin = await get_json(receiver, f"/v1/outcomes?project={PROJECT}&kind=test")
    assert status == 200
    shown = re.findall(r'href="/outcomes/test/(\w+)"', page)
    assert shown == [o["uid"] for o in twin["outcomes"]] and len(shown) == 3
    assert f"/v1/outcomes?project={PROJECT.replace('/', '%2F')}&kind=test" in hrefs(page)


async def test_search_pages_follow_the_cursor(receiver: Receiver, scenario: Scenario) -> None:
    seen: list[str] = []
    path: str | None = f"/outcomes?project={PROJECT}&limit=4"
    while path is not None:
        page = await get_page(receiver, path)
        seen += re.findall(r'href="/outcomes/\w+/(\w+)"', page)
        following = [h for h in hrefs(page) if h.startswith("/outcomes?") and "cursor=" in h]
        path = following[0] if following else None
    assert len(seen) == len(set(seen)) == len(Scenario().documents())


async def test_a_bad_filter_is_said_on_the_search_page(
    receiver: Receiver, scenario: Scenario
) -> None:
    page = await get_page(receiver, "/outcomes?since=yesterday", status=400)
    assert "since must be an ISO 8601 time" in page and 'name="since"' in page


@pytest.mark.parametrize("path", ["/outcomes/build/{missing}", "/outcomes/nope/{build}"])
async def test_an_absent_outcome_is_a_json_404(
    receiver: Receiver, scenario: Scenario, path: str
) -> None:
    status, body = await get_json(receiver, path.format(missing="x" * 27, build=scenario.build))
    assert (status, body["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    "path", ["/", "/outcomes", "/outcomes/build/x", "/v1/overview", "/regressions"]
)
async def test_pages_are_closed_to_anonymous_readers(receiver: Receiver, path: str) -> None:
    async with receiver.http.get(receiver.at(path)) as resp:
        body: dict[str, Any] = await resp.json()
        assert (resp.status, body["error"]) == (401, "missing_credentials")
        assert "Basic" in resp.headers["WWW-Authenticate"]


async def test_the_stylesheet_is_served_to_anyone(receiver: Receiver) -> None:
    async with receiver.http.get(receiver.at("/static/style.css")) as resp:
        assert (resp.status, resp.content_type) == (200, "text/css")
        assert "url(" not in await resp.text()  # nothing from another host, not even a font
