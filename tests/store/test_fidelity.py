"""Faithful to TuxSuite (issue 13): its documented samples, each value of its sets, retries and
`final`, every form of `waiting_for` in every arrival order, plans as summaries, the filters."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from shared.constants import RESULTS
from tests.support.builders import callback, new_uid, tuxsuite_doc
from tests.support.store import Store


@pytest.mark.parametrize("kind", ["build", "test", "oebuild", "plan"])
async def test_tuxsuites_documented_samples_are_stored_whole(store: Store, kind: str) -> None:
    doc = tuxsuite_doc(kind)
    await store.deliver(doc)
    found = await store.outcome(kind, doc["status"]["uid"])
    assert (found["field_errors"], found["repairs"], found["final"]) == (None, None, True)
    status = doc["status"]
    assert (found["project"], found["state"], found["result"]) == (
        status["project"],
        status["state"],
        status.get("result"),
    )
    assert found["payload"] == doc
    store.assert_settled()


async def test_a_documented_build_keeps_every_field_of_the_contract(store: Store) -> None:
    plan = new_uid()
    doc = tuxsuite_doc("build", plan=plan, waited_by=[f"TEST#{new_uid()}"], warnings_count="2")
    await store.deliver(doc)
    found, status = await store.outcome("build", doc["status"]["uid"]), doc["status"]
    same = (
        "build_name", "build_status", "toolchain", "target_arch", "kconfig", "git_repo",
        "git_ref", "git_sha", "git_describe", "git_short_log", "kernel_version",
        "errors_count", "retry", "status_message", "waited_by", "download_url",
    )  # fmt: skip
    assert {name: found[name] for name in same} == {name: status[name] for name in same}
    assert (found["warnings_count"], found["duration"], found["plan_uid"]) == (2, 258.0, plan)
    build = status["tuxmake_metadata"]["results"]["duration"]["build"]
    assert found["build_duration"] == float(build)


async def test_a_documented_test_keeps_its_retries(store: Store) -> None:
    messages = ["Infrastructure Error, Please retry"]
    doc = tuxsuite_doc("test", retries=1, retries_messages=messages, plan=new_uid())
    await store.deliver(doc)
    found = await store.outcome("test", doc["status"]["uid"])
    assert (found["retries"], found["retries_messages"]) == (1, messages)
    assert (found["plan_uid"], found["results"]) == (doc["status"]["plan"], {"boot": "pass"})


@pytest.mark.parametrize("value", RESULTS)
async def test_each_value_of_tuxsuites_sets_is_kept_and_can_be_asked_for(
    store: Store, value: str
) -> None:
    project = f"sets/{new_uid()}"
    build = tuxsuite_doc("build", project=project, build_status=value, result=value)
    test = tuxsuite_doc("test", project=project, result=value)
    await store.deliver(build, test)
    assert (await store.outcome("build", build["status"]["uid"]))["build_status"] == value
    assert (await store.outcome("test", test["status"]["uid"]))["result"] == value
    found = await store.uids(f"project={project}&result={value}")
    assert found == {build["status"]["uid"], test["status"]["uid"]}


async def test_a_build_that_tuxsuite_will_retry_is_not_final_until_it_stops(store: Store) -> None:
    uid = new_uid()
    message = "Infrastructure Error, Please retry"
    first = tuxsuite_doc(
        "build", uid, build_status="error", result="error", retry=0, status_message=message
    )
    await store.deliver(first)
    found = await store.outcome("build", uid)
    assert (found["build_status"], found["retry"], found["final"]) == ("error", 0, False)
    assert found["status_message"] == message
    last = tuxsuite_doc(
        "build", uid, build_status="error", retry=2, finished_time="2023-12-09T09:08:24"
    )
    await store.deliver(last)
    found = await store.outcome("build", uid)
    assert (found["retry"], found["final"]) == (2, True)


async def test_an_infrastructure_error_is_an_error_and_final(store: Store) -> None:
    doc = tuxsuite_doc("test", result="error", results={"boot": "unknown"})
    await store.deliver(doc)
    found = await store.outcome("test", doc["status"]["uid"])
    assert (found["result"], found["final"], found["results"]) == (
        "error",
        True,
        {"boot": "unknown"},
    )


def _tests_waiting(form: str, target: str) -> dict[str, Any]:
    return tuxsuite_doc("test", waiting_for=form.format(uid=target))


@pytest.mark.parametrize("dependency_first", [True, False])
@pytest.mark.parametrize(
    ("form", "kind", "link"),
    [
        ("BUILD#{uid}", "build", "build_uid"),
        ("{uid}", "build", "build_uid"),
        ("OEBUILD#{uid}", "oebuild", "oebuild_uid"),
    ],
)
async def test_each_waiting_for_form_is_linked_whatever_the_arrival_order(
    store: Store, form: str, kind: str, link: str, dependency_first: bool
) -> None:
    dependency = callback(kind)
    uid = dependency["status"]["uid"]
    test = _tests_waiting(form, uid)
    await store.deliver(*((dependency, test) if dependency_first else (test, dependency)))
    found = await store.outcome("test", test["status"]["uid"])
    assert (found["waiting_for"], found[link]) == (form.format(uid=uid), uid)
    assert await store.uids(f"{link}={uid}") == {test["status"]["uid"]}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
async def test_a_three_link_test_chain_reaches_its_build_whatever_the_order(
    store: Store, order: tuple[int, ...]
) -> None:
    build = tuxsuite_doc("build")
    build_uid = build["status"]["uid"]
    sanity = tuxsuite_doc("test", waiting_for=f"BUILD#{build_uid}")
    second = tuxsuite_doc("test", waiting_for=f"TEST#{sanity['status']['uid']}")
    third = tuxsuite_doc("test", waiting_for=f"TEST#{second['status']['uid']}")
    docs = [build, sanity, second, third]
    await store.deliver(*(docs[i] for i in order))
    tests = [doc["status"]["uid"] for doc in docs[1:]]
    for uid in tests:
        assert (await store.outcome("test", uid))["build_uid"] == build_uid
    assert await store.uids(f"build_uid={build_uid}") == set(tests)


async def test_a_chained_test_keeps_its_link_when_it_is_delivered_again(store: Store) -> None:
    build = tuxsuite_doc("build")
    sanity = tuxsuite_doc("test", waiting_for=f"BUILD#{build['status']['uid']}")
    uid = new_uid()
    chained = [
        tuxsuite_doc("test", uid, waiting_for=f"TEST#{sanity['status']['uid']}", state=state)
        for state in ("provisioning", "running", "finished")
    ]
    await store.deliver(build, sanity, *chained)
    assert (await store.outcome("test", uid))["build_uid"] == build["status"]["uid"]


async def test_a_test_waiting_for_a_test_that_never_comes_has_no_build(store: Store) -> None:
    doc = tuxsuite_doc("test", waiting_for=f"TEST#{new_uid()}")
    await store.deliver(doc)
    found = await store.outcome("test", doc["status"]["uid"])
    assert (found["build_uid"], found["oebuild_uid"]) == (None, None)
    store.assert_settled()


async def test_a_plan_counts_its_builds_and_tests_by_result(store: Store) -> None:
    plan = tuxsuite_doc("plan")
    uid = plan["status"]["uid"]
    members = [
        tuxsuite_doc("build", plan=uid, result="pass"),
        tuxsuite_doc("build", plan=uid, result="fail"),
        tuxsuite_doc("test", plan=uid, result="pass"),
        tuxsuite_doc("test", plan=uid, result="pass"),
        tuxsuite_doc("test", plan=uid, state="running", result=None),
    ]
    await store.deliver(plan, *members, tuxsuite_doc("test", plan=new_uid()))
    found = await store.outcome("plan", uid)
    assert found["summary"] == {
        "build": {"pass": 1, "fail": 1},
        "oebuild": {},
        "test": {"pass": 2, "none": 1},
    }
    assert await store.uids(f"plan={uid}") == {doc["status"]["uid"] for doc in members}


async def test_the_new_filters_find_what_they_name(store: Store) -> None:
    project = f"filters/{new_uid()}"
    build = tuxsuite_doc(
        "build", project=project, git_sha="a" * 40, git_describe="v6.8-1-gaaaa",
        toolchain="gcc-13", build_name="gcc-13-lkftconfig",
    )  # fmt: skip
    other = tuxsuite_doc("build", project=project)
    test = tuxsuite_doc("test", project=project, results={"boot": "pass", "ltp-smoke": "fail"})
    await store.deliver(build, other, test)
    uid = build["status"]["uid"]
    for query in (
        f"git_sha={'a' * 40}",
        "git_describe=v6.8-1-gaaaa",
        "toolchain=gcc-13",
        "build_name=gcc-13-lkftconfig",
    ):
        assert await store.uids(f"project={project}&{query}") == {uid}, query
    assert await store.uids(f"project={project}&test=ltp-smoke") == {test["status"]["uid"]}
    assert await store.uids(f"project={project}&test=kunit") == set()
