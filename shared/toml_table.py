"""A strict reader over one parsed TOML table: typed fields, and unknown keys as errors."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from shared.errors import ConfigError

T = TypeVar("T")


def load_toml_file(path: Path, what: str, parse: Callable[[Table], T]) -> T:
    """Read the TOML file at `path` and parse it whole; every ConfigError names the file
    (`what` says which file it is: "users file", "notify file")."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    try:
        return parse(Table(data, ""))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.message}") from e


class Table:
    """One TOML table, read field by field, after `only()` has refused keys it should not hold."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must be a table")
        self.data: dict[str, Any] = data
        self.path = path

    def only(self, *keys: str) -> Table:
        # Checked first, so that a misspelt key is named as such, not reported as missing.
        unknown = sorted(set(self.data) - set(keys))
        if unknown:
            raise ConfigError(f"unknown key {', '.join(self.name(k) for k in unknown)}")
        return self

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str) -> Any:
        return self.data.get(key)

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.name(key)} must be a non-empty string")
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise ConfigError(f"{self.name(key)} is required")
        return value

    def positive_int(self, key: str, default: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        # bool is an int to Python, but `max_lifetime = true` is a mistake, not 1 second.
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{self.name(key)} must be a positive integer")
        return value

    def seconds(self, key: str, default: float, most: float) -> float:
        """A number of seconds above 0 and at most `most` (an integer or a float)."""
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= most:
            raise ConfigError(
                f"{self.name(key)} must be a number of seconds above 0, at most {most:g}"
            )
        return float(value)

    def texts(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{self.name(key)} must be a list of non-empty strings")
        return tuple(value)

    def table(self, key: str) -> Table:
        value = self._get(key)
        return Table({} if value is None else value, self.name(key))

    def subtables(self, key: str) -> dict[str, Table]:
        """The tables nested under `key`, such as every [users.NAME], by NAME."""
        parent = self.table(key)
        return {name: Table(value, parent.name(name)) for name, value in parent.data.items()}
