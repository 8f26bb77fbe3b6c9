"""The layout's rules, read from the source: `shared/` is the ground floor and imports neither
side; RQ's internals are reached only from receiver/rq/ and worker/rq/, whose public faces the
rest imports; every command in the CLI's table of dotted paths resolves to an entry point
that accepts what the dispatcher passes; and the handler paths queued jobs store resolve."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.cli import COMMANDS, command_name, resolve
from shared.cli.parser import build_parser
from shared.constants import HANDLER_PATHS
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RQ_FOLDERS = ("receiver/rq", "worker/rq")


def sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports, and every name it imports from one (`module.name`)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def offenders(paths: Iterator[Path], bad: typing.Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in paths
        for name in sorted(set(imported(path)))
        if bad(name)
    ]


def test_imported_sees_every_kind_of_import(tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    path.write_text(
        "import receiver.app\nfrom worker import run\nfrom . import sibling\n"
        "def f():\n    from rq.scripts import _build_hset_args\n",
        encoding="utf-8",
    )
    assert set(imported(path)) == {
        "receiver.app",
        "worker",
        "worker.run",
        "rq.scripts",
        "rq.scripts._build_hset_args",
    }


def test_shared_imports_neither_the_receiver_nor_the_workers() -> None:
    assert list(sources("shared")), "no sources found: the scan would prove nothing"
    found = offenders(sources("shared"), lambda name: name.split(".")[0] in ("receiver", "worker"))
    assert found == []


def outside_rq_folders() -> Iterator[Path]:
    for path in sources("receiver", "worker", "shared", "bench"):
        if not any(path.is_relative_to(ROOT / folder) for folder in RQ_FOLDERS):
            yield path


# What the RQ folders offer the rest: the names their __init__ exports.
PUBLIC_FACES = {
    f"{package}.{name}"
    for package in (folder.replace("/", ".") for folder in RQ_FOLDERS)
    for name in importlib.import_module(package).__all__
}


def reaches_into_rq(name: str) -> bool:
    """A private name of RQ's, or a module of the RQ folders other than their public face."""
    parts = name.split(".")
    if parts[0] == "rq":
        return any(part.startswith("_") for part in parts)
    return (
        parts[:2] in (["receiver", "rq"], ["worker", "rq"])
        and len(parts) > 2
        and (f"{parts[0]}.{parts[1]}.{parts[2]}" not in PUBLIC_FACES)
    )


def test_rq_internals_are_reached_only_from_their_two_folders() -> None:
    assert reaches_into_rq("rq.scripts._build_hset_args")
    assert reaches_into_rq("receiver.rq.job_template.RETRY")
    assert not reaches_into_rq("receiver.rq.JobTemplate")
    assert offenders(outside_rq_folders(), reaches_into_rq) == []


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, ...]]:
    """Every runnable command of `parser`, as the words that name it."""
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                nested = list(subcommands(sub))
                yield from ((word, *rest) for rest in nested) if nested else [(word,)]


def test_the_table_names_every_command_of_the_parser_and_no_other() -> None:
    assert sorted(" ".join(words) for words in subcommands(build_parser())) == sorted(COMMANDS)


@pytest.mark.parametrize("words", [("db", "upgrade"), ("dev",), ("status",)])
def test_the_dispatcher_names_a_parsed_command_as_the_table_does(words: tuple[str, ...]) -> None:
    assert command_name(build_parser().parse_args(words)) == " ".join(words)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_entry_point_accepts_what_the_dispatcher_passes(
    name: str, settings: Settings
) -> None:
    entry = resolve(name)
    inspect.signature(entry).bind(argparse.Namespace(), settings)
    hints = typing.get_type_hints(entry)
    params = list(inspect.signature(entry).parameters)
    assert [hints[p] for p in params[:2]] == [argparse.Namespace, Settings]
    assert hints["return"] is int


@pytest.mark.parametrize("kind", sorted(HANDLER_PATHS))
def test_the_handler_paths_queued_jobs_store_still_resolve(kind: str) -> None:
    module, _, name = HANDLER_PATHS[kind].rpartition(".")
    assert module == "worker.handlers"
    handler = getattr(importlib.import_module(module), name)
    inspect.signature(handler).bind(delivery={})  # as RQ calls it: the job's kwargs
