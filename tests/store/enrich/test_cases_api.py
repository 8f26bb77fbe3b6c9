"""A test's per-case results through the read API: the first page on its outcome, the rest
from GET /v1/outcomes/test/{uid}/cases, in name order, behind the same read access."""

from __future__ import annotations

from typing import Any

import pytest

from shared.constants import CASES_PAGE_DEFAULT
from tests.conftest import Receiver
from tests.store.enrich.conftest import Runs
from tests.support.api import get_json
from tests.support.builders import new_uid
from tests.support.tuxsuite_api import TuxSuiteAPI, cases_document, results

SUITES = 3
PER_SUITE = 900  # 2,700 cases: the outcome's page and two more of 1,000


def result(i: int) -> str:
    return ("pass", "fail", "skip")[i % 3]


def many_cases() -> dict[str, dict[str, str]]:
    """Suites named with a numeric prefix, which the cases' names leave out."""
    return {
        f"{n}_suite-{n}": {f"case{i:04d}": result(i) for i in range(PER_SUITE)}
        for n in range(SUITES)
    }


def expected() -> dict[str, str]:
    return {f"suite-{n}/case{i:04d}": result(i) for n in range(SUITES) for i in range(PER_SUITE)}


async def pages(receiver: Receiver, uid: str, cursor: str | None, limit: str = "") -> list[Any]:
    found = []
    while cursor is not None:
        query = f"?cursor={cursor}" + (f"&limit={limit}" if limit else "")
        status, page = await get_json(receiver, f"/v1/outcomes/test/{uid}/cases{query}")
        assert status == 200, page
        found.append(page)
        cursor = page["next_cursor"]
    return found


@pytest.mark.parametrize("limit", ["", "700"], ids=["default", "700"])
async def test_a_large_set_of_cases_is_paged_in_name_order(
    runs: Runs, api: TuxSuiteAPI, uid: str, limit: str
) -> None:
    api.answer(uid, results(cases_document(many_cases())))
    await runs.finished(uid=uid)
    first = await runs.cases(uid)
    assert (first["count"], first["error"]) == (SUITES * PER_SUITE, None)
    assert len(first["results"]) == CASES_PAGE_DEFAULT
    rest = await pages(runs.receiver, uid, first["next_cursor"], limit)
    assert [p["count"] for p in rest] == [SUITES * PER_SUITE] * len(rest)
    names = [name for page in [first, *rest] for name in page["results"]]
    assert names == sorted(expected())
    assert {k: v for page in [first, *rest] for k, v in page["results"].items()} == expected()


async def test_the_cases_route_answers_the_outcomes_page(
    runs: Runs, api: TuxSuiteAPI, uid: str
) -> None:
    api.answer(uid, results(cases_document({"boot": {"boot-test": "pass"}})))
    await runs.finished(uid=uid)
    status, page = await get_json(runs.receiver, f"/v1/outcomes/test/{uid}/cases")
    assert (status, page) == (200, await runs.cases(uid))


REFUSED = {
    "cursor": ("?cursor=bm90LWEtY3Vyc29y", "cursor is not one this server gave"),
    "cursor-json": ("?cursor=e30", "cursor is not one this server gave"),
    "limit": ("?limit=5001", "limit must be a whole number from 1 to 5000"),
    "unknown": ("?kind=test", "unknown parameter kind"),
    "twice": ("?limit=1&limit=2", "limit is given more than once"),
}


@pytest.mark.parametrize("query", REFUSED.values(), ids=REFUSED.keys())
async def test_a_bad_parameter_is_refused(runs: Runs, uid: str, query: tuple[str, str]) -> None:
    await runs.finished(uid=uid)
    status, body = await get_json(runs.receiver, f"/v1/outcomes/test/{uid}/cases{query[0]}")
    assert (status, body) == (400, {"error": "invalid_parameter", "message": query[1]})


async def test_no_cases_is_a_404(runs: Runs, receiver: Receiver) -> None:
    unknown = new_uid()
    status, body = await get_json(receiver, f"/v1/outcomes/test/{unknown}/cases")
    assert (status, body["error"]) == (404, "not_found")
    # A test stored before any fetch ended (here: not finished, so none is queued).
    await runs.deliver_running(unknown)
    status, body = await get_json(receiver, f"/v1/outcomes/test/{unknown}/cases")
    assert (status, body["error"]) == (404, "not_found")


async def test_reading_cases_needs_the_read_role(runs: Runs, api: TuxSuiteAPI, uid: str) -> None:
    api.answer(uid, results(cases_document({"boot": {"boot-test": "pass"}})))
    await runs.finished(uid=uid)
    path = runs.receiver.at(f"/v1/outcomes/test/{uid}/cases")
    async with runs.receiver.http.get(path) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "missing_credentials"
