"""A test's per-case results from TuxSuite's API, fetched and read as SQUAD reads them.

SQUAD (squad/ci/backend/tuxsuite.py) reads `<api>/v1/groups/<g>/projects/<p>/tests/<uid>/results`,
which answers `{suite: {test: {"result": ...}, ...}, ...}` or `{"error": ...}`; it skips the suite
`lava`, strips a numeric prefix such as `1_` from suite names and names each case `suite/test`.
A case without a result is left out, as SQUAD leaves it out.

A fetch that may work later (a timeout, a refused connection, a 5xx or a 429) is a
TransientError, which RQ retries on the enrich queue's backoff. One that will not (a 404, an
answer that is not results, one longer than the bound) is a CasesUnavailable, recorded on the
outcome; AccessRefused (401, 403) is recorded too, and fails the job so that it can be replayed
once the token is fixed.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import aiohttp

from shared.constants import CASES_DOCUMENT_MAX_BYTES, CASES_FETCH_TIMEOUT_S, CASES_MAX
from shared.errors import PermanentError, TransientError
from shared.settings import Secret, scrub_url_secrets

SKIPPED_SUITES = frozenset({"lava"})
_SUITE_PREFIX = re.compile(r"^[0-9]+_")
_READ_CHUNK_BYTES = 64 * 1024
# Statuses worth another attempt: the API is busy, restarting or rate limiting.
_RETRIED = frozenset({408, 425, 429})
_SHOWN_CHARS = 200  # of an error the API answered, in what is recorded


class CasesUnavailable(PermanentError):
    """The API's answer holds no results, and asking again will not change that."""

    code = "cases_unavailable"


class AccessRefused(CasesUnavailable):
    """The API refused the token (or the lack of one)."""

    code = "cases_access_refused"


def results_url(api_url: str, project: str | None, uid: str) -> str:
    """Where a test's results are: its project is the payload's `group/project`."""
    group, _, name = (project or "").partition("/")
    if not group or not name or "/" in name:
        raise CasesUnavailable(f"the test's project {project!r} is not GROUP/PROJECT")
    g, p, u = (quote(part, safe="") for part in (group, name, uid))
    return f"{api_url.rstrip('/')}/v1/groups/{g}/projects/{p}/tests/{u}/results"


def _check_status(status: int) -> None:
    if status == 200:
        return
    answered = f"TuxSuite's API answered HTTP {status}"
    if status >= 500 or status in _RETRIED:
        raise TransientError(answered)
    if status in (401, 403):
        raise AccessRefused(f"{answered}: check TUXHOOK_TUXSUITE_TOKEN")
    raise CasesUnavailable(answered)


def _too_long() -> CasesUnavailable:
    return CasesUnavailable(f"TuxSuite's API answered more than {CASES_DOCUMENT_MAX_BYTES} bytes")


async def _read_bounded(resp: aiohttp.ClientResponse) -> bytes:
    """The body, decoded from its Content-Encoding, read no further than the bound."""
    if (resp.content_length or 0) > CASES_DOCUMENT_MAX_BYTES:
        raise _too_long()
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_READ_CHUNK_BYTES):
        body += chunk
        if len(body) > CASES_DOCUMENT_MAX_BYTES:
            raise _too_long()
    return bytes(body)


async def fetch_results(url: str, token: Secret | None) -> bytes:
    """GET the results; the token goes in Authorization, as with the keys endpoint."""
    headers = {"Authorization": token.reveal()} if token else {}
    timeout = aiohttp.ClientTimeout(total=CASES_FETCH_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, headers=headers) as resp,
        ):
            _check_status(resp.status)
            return await _read_bounded(resp)
    except (aiohttp.ClientError, TimeoutError) as e:
        reason = scrub_url_secrets(str(e), url)  # aiohttp may quote the URL, password and all
        raise TransientError(
            f"cannot fetch from TuxSuite's API: {type(e).__name__}: {reason}"
        ) from e
    except ValueError as e:
        # aiohttp refuses a URL with credentials beside an Authorization header.
        raise PermanentError(f"cannot fetch from TuxSuite's API: {type(e).__name__}") from e


def _document(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deep to parse
        raise CasesUnavailable("TuxSuite's API answered something that is not JSON") from e
    if not isinstance(doc, dict):
        raise CasesUnavailable("TuxSuite's API answered JSON that is not an object of suites")
    if doc.get("error") is not None:
        error = str(doc["error"])[:_SHOWN_CHARS]
        raise CasesUnavailable(f"TuxSuite's API answered an error: {error}")
    return doc


def _result(data: Any) -> str | None:
    result = data.get("result") if isinstance(data, dict) else None
    return result if isinstance(result, str) else None


def parse_cases(body: bytes) -> dict[str, str]:
    """`suite/test` -> result, from the body of a results answer."""
    cases: dict[str, str] = {}
    for suite, tests in _document(body).items():
        if suite in SKIPPED_SUITES:
            continue
        if not isinstance(tests, dict):
            raise CasesUnavailable(f"TuxSuite's API answered suite {suite[:64]!r} without tests")
        name = _SUITE_PREFIX.sub("", suite)
        for test, data in tests.items():
            result = _result(data)
            if result is not None:
                cases[f"{name}/{test}"] = result
        if len(cases) > CASES_MAX:
            raise CasesUnavailable(f"TuxSuite's API answered more than {CASES_MAX} cases")
    return cases
