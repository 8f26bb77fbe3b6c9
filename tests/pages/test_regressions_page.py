"""Regressions and fixes on the pages, over runs the workers compared: the regressions page is
GET /v1/regressions rendered (same filters, same cursor), home lists the latest, and a build's
and a test's pages mark the results that turned, with a symbol and a word beside the colour."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from redis import Redis

from receiver.regressions import filter_fields
from shared.settings import Settings
from tests.conftest import Receiver
from tests.pages.test_pages import hrefs
from tests.support.api import get_json, post_document
from tests.support.cli import run_cli
from tests.support.keys import KeyPair
from tests.support.pages import get_page
from tests.support.scenario import PROJECT, Earlier, Scenario
from tests.support.workers import drain

REGRESSION = (
    '<span class="c c-regression"><span class="sym" aria-hidden="true">▼</span> regression</span>'
)
FIX = '<span class="c c-fix"><span class="sym" aria-hidden="true">▲</span> fix</span>'


@dataclass(frozen=True)
class Turned:
    later: Scenario
    earlier: Earlier


@pytest.fixture
async def turned(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> Turned:
    """The scenario after the run before it: its failed test's ltp-syscalls regressed, its
    boot was fixed."""
    later, earlier = Scenario(), Earlier()
    for doc in earlier.documents() + later.documents():
        await post_document(receiver, keys, doc)
    drain(settings, redis_client)
    return Turned(later, earlier)


def changes_rows(page: str) -> list[str]:
    table = page[page.index('<table class="changes">') :]
    return re.findall(
        r"<tr(?: class=\"superseded\")?><td>.*?</tr>", table[: table.index("</table>")]
    )


async def test_the_regressions_page_is_the_apis_answer_rendered(
    receiver: Receiver, turned: Turned
) -> None:
    page = await get_page(receiver, f"/regressions?project={PROJECT}")
    status, twin = await get_json(receiver, f"/v1/regressions?project={PROJECT}")
    assert status == 200 and len(twin["regressions"]) == 2
    rows = changes_rows(page)
    assert len(rows) == 2
    for row, transition in zip(rows, twin["regressions"], strict=True):
        assert (REGRESSION if transition["type"] == "regression" else FIX) in row
        assert f'href="/outcomes/test/{transition["before"]["uid"]}"' in row
        assert f'href="/outcomes/test/{transition["after"]["uid"]}"' in row
        assert transition["test"] in row and "qemu-x86_64 arm64 gcc-13" in row
    assert "v6.6-rc6" in rows[0] and "v6.6-rc7-21-g8f6f76a6a29f" in rows[0]
    assert f"/v1/regressions?project={PROJECT.replace('/', '%2F')}" in hrefs(page)
    assert "/regressions" in hrefs(page)  # in every page's header


async def test_the_regressions_form_offers_every_filter_and_filters(
    receiver: Receiver, turned: Turned
) -> None:
    page = await get_page(receiver, "/regressions?type=fix&device=&superseded=")
    names = re.findall(r'<(?:input|select) [^>]*name="(\w+)"', page)
    assert names == [name for name, _ in filter_fields()]
    assert '<option value="fix" selected>' in page
    (row,) = changes_rows(page)
    assert FIX in row and "boot" in row


async def test_regressions_pages_follow_the_cursor(receiver: Receiver, turned: Turned) -> None:
    seen: list[str] = []
    path: str | None = "/regressions?limit=1"
    while path is not None:
        page = await get_page(receiver, path)
        seen += changes_rows(page)
        following = [h for h in hrefs(page) if h.startswith("/regressions?") and "cursor=" in h]
        path = following[0] if following else None
    assert len(seen) == 2 and REGRESSION in seen[0] + seen[1] and FIX in seen[0] + seen[1]


async def test_superseded_transitions_are_shown_as_such(
    receiver: Receiver, turned: Turned, keys: KeyPair, settings: Settings, redis_client: Redis
) -> None:
    """A run that arrives late between the two supersedes what they made."""
    between = Earlier()
    built, tested = between.documents()
    built["status"].update(git_sha="2" * 40, finished_time="2023-11-01T21:21:55")
    tested["status"].update(finished_time="2023-11-01T21:24:58")
    for doc in (built, tested):
        await post_document(receiver, keys, doc)
    drain(settings, redis_client)
    superseded = changes_rows(await get_page(receiver, "/regressions?superseded=true"))
    assert len(superseded) == 2
    assert all('class="superseded"' in row and "(superseded)" in row for row in superseded)
    assert len(changes_rows(await get_page(receiver, "/regressions?superseded=any"))) == 4


async def test_a_bad_filter_is_said_on_the_regressions_page(receiver: Receiver) -> None:
    page = await get_page(receiver, "/regressions?type=worse", status=400)
    assert "type must be one of regression, fix" in page and 'name="type"' in page


async def test_a_build_page_marks_its_tests_results_that_turned(
    receiver: Receiver, turned: Turned
) -> None:
    page = await get_page(receiver, f"/outcomes/build/{turned.later.build}")
    table = page[page.index('<table class="outcomes">') :]
    failed = next(r for r in table.split("<tr>") if f"/outcomes/test/{turned.later.failed}" in r)
    assert f"{REGRESSION} ltp-syscalls" in failed and f"{FIX} boot" in failed
    passed = next(r for r in table.split("<tr>") if f"/outcomes/test/{turned.later.passed}" in r)
    assert 'class="c ' not in passed


async def test_a_test_page_marks_its_suites_that_turned(receiver: Receiver, turned: Turned) -> None:
    page = await get_page(receiver, f"/outcomes/test/{turned.later.failed}")
    suites = re.findall(r"<tr><td>([^<]+)</td><td><span class=\"v v-\w+\".*?</tr>", page)
    assert suites == ["boot", "ltp-syscalls"]
    rows = dict(re.findall(r"<tr><td>([^<]+)</td>(<td><span class=\"v .*?)</tr>", page))
    assert FIX in rows["boot"] and REGRESSION in rows["ltp-syscalls"]
    assert f'href="/outcomes/test/{turned.earlier.test}"' in rows["ltp-syscalls"]
    earlier = await get_page(receiver, f"/outcomes/test/{turned.earlier.test}")
    assert 'class="c ' not in earlier


async def test_home_lists_the_latest_regressions(receiver: Receiver, turned: Turned) -> None:
    page = await get_page(receiver, "/")
    section = page[page.index('<section class="latest-changes">') :]
    section = section[: section.index("</section>")]
    assert REGRESSION in section and FIX in section and "/regressions" in hrefs(section)
    assert f"/outcomes/test/{turned.later.failed}" in hrefs(section)
    _, twin = await get_json(receiver, "/v1/overview")
    _, listed = await get_json(receiver, "/v1/regressions")
    assert twin["regressions"] == listed["regressions"] and len(listed["regressions"]) == 2
    status, later = await get_json(receiver, "/v1/overview?since=2999-01-01T00:00:00Z")
    assert (status, later["regressions"]) == (200, [])


async def test_a_build_page_marks_its_own_result_that_turned(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> None:
    earlier, later = Earlier().documents()[0], Scenario()
    earlier["status"].update(build_status="fail", result="fail")
    for doc in (earlier, later.documents()[1]):
        await post_document(receiver, keys, doc)
    drain(settings, redis_client)
    page = await get_page(receiver, f"/outcomes/build/{later.build}")
    own = re.search(r'<p class="own-change">.*?</p>', page, re.DOTALL)
    assert own is not None and FIX in own[0]
    assert f'href="/outcomes/build/{earlier["status"]["uid"]}"' in own[0]


async def test_show_marks_a_tests_suites_that_turned(
    receiver: Receiver, turned: Turned, settings_env: dict[str, str]
) -> None:
    result = run_cli(settings_env, "show", "test", turned.later.failed)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line]
    assert ["SUITE", "RESULT", "CHANGE"] in lines
    assert ["boot", "pass", "fix", "(was", "fail", "at", "v6.6-rc6)"] in lines
    assert ["ltp-syscalls", "fail", "regression", "(was", "pass", "at", "v6.6-rc6)"] in lines
