"""Every value from a payload is escaped: fields written to break out of text, attributes and
links render as inert text on every page that shows them."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from redis import Redis

from shared.settings import Settings
from tests.conftest import Receiver
from tests.support.api import get_json, post_document
from tests.support.builders import callback, new_uid
from tests.support.keys import KeyPair
from tests.support.pages import get_page
from tests.support.workers import drain

SCRIPT = '<script>alert("tuxhook")</script>'
QUOTES = "\"'><img src=x onerror=alert(1)>"
HOSTILE_PROJECT = f"{SCRIPT}{QUOTES}"
# The tags the templates write; a payload that added any other would have escaped.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "body", "header", "nav", "a", "main", "footer",
    "p", "h1", "h2", "h3", "span", "div", "table", "thead", "tbody", "tr", "th", "td", "code",
    "details", "summary", "pre", "section", "ul", "li", "form", "label", "select", "option",
    "input", "button",
}  # fmt: skip


class Tags(HTMLParser):
    """Every element and attribute of a page, as a browser's parser would see them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def assert_inert(page: str) -> None:
    parsed = Tags(page)
    assert parsed.tags <= TEMPLATE_TAGS, parsed.tags - TEMPLATE_TAGS
    assert not [name for name, _ in parsed.attributes if name.startswith("on")]
    links = [value for name, value in parsed.attributes if name in ("href", "src", "action")]
    assert all(link.startswith(("/", "http://", "https://")) for link in links), links
    assert "&lt;script&gt;" in page and SCRIPT not in page


def hostile_build(uid: str, **status: str) -> dict[str, Any]:
    return callback(
        "build",
        uid,
        project=HOSTILE_PROJECT,
        build_name=QUOTES,
        download_url="javascript:alert(1)//",
        kconfig=[SCRIPT, f"https://example.org/{QUOTES}"],
        toolchain="' autofocus onfocus='alert(1)",
        **status,
    )


def hostile_test(uid: str, build: str, results: dict[str, str], **status: str) -> dict[str, Any]:
    return callback(
        "test",
        uid,
        project=HOSTILE_PROJECT,
        device=f"</td>{SCRIPT}",
        waiting_for=f"BUILD#{build}",
        results=results,
        tests=[SCRIPT],
        **status,
    )


@pytest.fixture
async def hostile(
    receiver: Receiver, keys: KeyPair, settings: Settings, redis_client: Redis
) -> dict[str, str]:
    """A build and a test written to break out, after a run of their environment on the commit
    before, which their suite named `<script>` turns from pass to fail: a regression."""
    build, test, earlier = new_uid(), new_uid(), new_uid()
    docs = [
        hostile_build(earlier, git_sha="1" * 40, finished_time="2023-11-01T09:21:55"),
        hostile_test(new_uid(), earlier, {SCRIPT: "pass"}, finished_time="2023-11-01T09:24:58"),
        hostile_build(build, git_describe=SCRIPT),
        hostile_test(test, build, {SCRIPT: "fail", QUOTES: SCRIPT}),
    ]
    for doc in docs:
        await post_document(receiver, keys, doc)
    drain(settings, redis_client)
    status, found = await get_json(receiver, "/v1/regressions")
    assert status == 200 and [t["test"] for t in found["regressions"]] == [SCRIPT]
    return {"build": build, "test": test}


async def test_a_payload_with_script_in_its_fields_renders_inert(
    receiver: Receiver, hostile: dict[str, str]
) -> None:
    paths = [
        "/",
        f"/outcomes/build/{hostile['build']}",
        f"/outcomes/test/{hostile['test']}",
        f"/outcomes?project={quote(HOSTILE_PROJECT)}",
        f"/regressions?project={quote(HOSTILE_PROJECT)}",
        f"/regressions?superseded=any&test={quote(SCRIPT)}",
    ]
    for path in paths:
        page = await get_page(receiver, path)
        assert_inert(page)
        if not path.startswith("/outcomes?"):  # every page but search shows the regression
            assert "c-regression" in page, path


@pytest.mark.parametrize("path", ["/outcomes", "/regressions"])
async def test_a_search_echoes_what_it_was_given_inert(receiver: Receiver, path: str) -> None:
    query = f"project={quote(HOSTILE_PROJECT)}&since={quote(SCRIPT)}"
    page = await get_page(receiver, f"{path}?{query}", status=400)
    assert "since must be an ISO 8601 time" in page
    assert_inert(page)
