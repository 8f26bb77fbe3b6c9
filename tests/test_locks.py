"""The lock files agree with pyproject.toml and with each other: a range edited without `make lock`
fails here, not as an import error in whichever environment installs the stale lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from shared.rq_contract import RQ_VERSION, minor

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
# One pinned requirement: its line and the --hash lines under it, up to its "# via" comments.
PIN = re.compile(
    r"^([A-Za-z0-9._-]+)==(\S+)(?: ;[^\\\n]*)? \\\n((?:\s+--hash=\S+(?: \\)?\n)+)", re.M
)

Pins = dict[str, tuple[str, frozenset[str]]]  # name -> (version, hashes)


def pins(name: str) -> Pins:
    found: Pins = {}
    for m in PIN.finditer((LOCKS / name).read_text()):
        hashes = frozenset(re.findall(r"--hash=(\S+)", m[3]))
        found[canonicalize_name(m[1])] = (m[2], hashes)
    return found


def project() -> dict[str, list[Requirement]]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "runtime.txt": [Requirement(r) for r in meta["dependencies"]],
        "dev.txt": [Requirement(r) for r in meta["optional-dependencies"]["dev"]],
    }


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt", "dashboard.txt"])
def test_every_pin_has_hashes(lock: str) -> None:
    text = (LOCKS / lock).read_text()
    found = pins(lock)
    pinned = re.findall(r"^[A-Za-z0-9._-]+==", text, flags=re.M)
    assert len(found) == len(pinned), "a pin without hashes, or one the pattern missed"
    assert all(hashes for _, hashes in found.values())


@pytest.mark.parametrize("lock", ["runtime.txt", "dev.txt"])
def test_each_requirement_is_pinned_within_its_range(lock: str) -> None:
    found = pins(lock)
    for requirement in project()[lock]:
        name = canonicalize_name(requirement.name)
        assert name in found, f"{name} is not in requirements/{lock}: run `make lock`"
        version, _ = found[name]
        assert requirement.specifier.contains(version), (
            f"requirements/{lock} pins {name}=={version}, outside {requirement.specifier}"
        )


@pytest.mark.parametrize("lock", ["dev.txt", "dashboard.txt"])
def test_what_a_lock_shares_with_the_runtime_lock_is_the_same(lock: str) -> None:
    runtime, other = pins("runtime.txt"), pins(lock)
    assert {name: other[name] for name in runtime.keys() & other.keys()} == {
        name: runtime[name] for name in runtime.keys() & other.keys()
    }
    if lock == "dev.txt":  # the venv, and so the tests, run everything the image runs
        assert runtime.keys() <= other.keys()


def test_rq_is_the_release_the_start_up_check_expects() -> None:
    """pyproject.toml's range, the locks and shared/rq_contract.py name one RQ minor release:
    the contract tests' (docs/upgrading-rq.md)."""
    major, minor_number = RQ_VERSION.split(".")
    [rq] = [r for r in project()["runtime.txt"] if canonicalize_name(r.name) == "rq"]
    assert rq.specifier == SpecifierSet(f">={RQ_VERSION},<{major}.{int(minor_number) + 1}")
    for lock in ("runtime.txt", "dev.txt", "dashboard.txt"):
        assert minor(pins(lock)["rq"][0]) == RQ_VERSION, lock
