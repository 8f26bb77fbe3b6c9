"""An event's outcome as a KCIDB v5 submission (docs/notifications.md has the field mapping).

Ids are `origin:uid`, TuxSuite's uids never repeat, and KCIDB merges objects by id: a
resubmission replaces rather than duplicates. A value KCIDB's schema would refuse (a
non-https repository, a short commit hash) is left out rather than sent; what remains is
validated with kcidb-io's schema before it is sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from kcidb_io import schema

SCHEMA = schema.V5_3
VERSION = {"major": SCHEMA.major, "minor": SCHEMA.minor}

_STATUS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP", "canceled": "MISS"}
_SHA = re.compile(r"[0-9a-f]{40}")
_ARCH = re.compile(r"[a-z0-9_]*")
_PATH_PART = re.compile(r"[^a-zA-Z0-9_-]")

Outcome = dict[str, Any]


def _some(**fields: Any) -> dict[str, Any]:
    """KCIDB has no nulls: a missing value is a missing property."""
    return {k: v for k, v in fields.items() if v is not None and v != {}}


def checkout_id(origin: str, outcome: Outcome) -> str:
    seed = "|".join(str(outcome.get(k) or "") for k in ("git_repo", "git_ref", "git_sha"))
    return f"{origin}:ck-{hashlib.sha256(seed.encode('utf-8')).hexdigest()[:32]}"


def checkout(origin: str, outcome: Outcome) -> dict[str, Any]:
    repo, sha = outcome.get("git_repo"), outcome.get("git_sha")
    return _some(
        id=checkout_id(origin, outcome),
        origin=origin,
        git_repository_url=repo if isinstance(repo, str) and repo.startswith("https://") else None,
        git_commit_hash=sha if isinstance(sha, str) and _SHA.fullmatch(sha) else None,
        git_commit_name=outcome.get("git_describe"),
        git_repository_branch=outcome.get("git_ref"),
    )


def _config_name(kconfig: Any) -> str | None:
    if isinstance(kconfig, list):
        return "+".join(str(k) for k in kconfig) or None
    return kconfig if isinstance(kconfig, str) else None


def build(origin: str, outcome: Outcome) -> dict[str, Any]:
    arch = outcome.get("target_arch")
    status = outcome.get("build_status") or outcome.get("result")
    misc = _some(
        build_name=outcome.get("build_name"),
        kernel_version=outcome.get("kernel_version"),
        warnings_count=outcome.get("warnings_count"),
        errors_count=outcome.get("errors_count"),
        project=outcome.get("project"),
    )
    return _some(
        id=f"{origin}:{outcome['uid']}",
        origin=origin,
        checkout_id=checkout_id(origin, outcome),
        architecture=arch if isinstance(arch, str) and _ARCH.fullmatch(arch) else None,
        compiler=outcome.get("toolchain"),
        config_name=_config_name(outcome.get("kconfig")),
        duration=outcome.get("build_duration") or outcome.get("duration"),
        log_url=outcome.get("download_url"),
        status=_STATUS.get(str(status)),
        misc=misc,
    )


def _path(name: str) -> str:
    return ".".join(_PATH_PART.sub("_", part) for part in name.split(".") if part)


def _cases(
    origin: str, uid: str, common: dict[str, Any], cases: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """One test per case (`suite/case`): its path below its suite's, its id from its name,
    which no suite's id can equal (a suite's follows the uid with a dot, a case's with '/')."""
    return [
        _some(
            **common,
            id=f"{origin}:{uid}/{name}",
            path=_path(name.replace("/", ".", 1)),
            status=_STATUS.get(str(result)),
        )
        for name, result in sorted(cases.items())
    ]


def tests(
    origin: str, outcome: Outcome, cases: Mapping[str, str | None] | None = None
) -> list[dict[str, Any]]:
    """One test per suite of the test's results (the test as a whole when it has none), and one
    per case the enrich queue stored."""
    uid = outcome["uid"]
    common = {
        "origin": origin,
        "build_id": f"{origin}:{outcome.get('build_uid') or uid}",
        "log_url": outcome.get("download_url"),
        "environment": _some(comment=outcome.get("device")),
        "misc": _some(device=outcome.get("device"), project=outcome.get("project"), uid=uid),
    }
    return _suites(origin, uid, outcome, common) + _cases(origin, uid, common, cases or {})


def _suites(
    origin: str, uid: str, outcome: Outcome, common: dict[str, Any]
) -> list[dict[str, Any]]:
    results = outcome.get("results")
    if not isinstance(results, dict) or not results:
        whole = {
            "id": f"{origin}:{uid}",
            "path": "",
            "status": _STATUS.get(str(outcome.get("result"))),
        }
        return [_some(**common, **whole, duration=outcome.get("duration"))]
    return [
        _some(
            **common,
            id=f"{origin}:{uid}.{_path(suite)}",
            path=_path(suite),
            status=_STATUS.get(str(result)),
        )
        for suite, result in sorted(results.items())
    ]


def submission(
    origin: str, event: dict[str, Any] | None, cases: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """The submission for an event; only the version for an event without a build or a test
    (a plan, an oebuild, `tuxhook notify test`), which checks that KCIDB takes the token."""
    doc: dict[str, Any] = {"version": dict(VERSION)}
    outcome = (event or {}).get("outcome") or {}
    if outcome.get("kind") == "build":
        doc["checkouts"] = [checkout(origin, outcome)]
        doc["builds"] = [build(origin, outcome)]
    elif outcome.get("kind") == "test":
        doc["tests"] = tests(origin, outcome, cases)
    return doc
