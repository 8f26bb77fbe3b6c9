"""What the handlers of one worker process share: the store's engine, made once from Settings,
and the notify file's rules and sinks, read once.

`tuxhook worker` (or a test) calls `configure` at the edge; handlers call `engine()`. The engine
is built on first use and then reused for every job the process runs. A forked child (a pool
member, a work horse) builds its own: pooled connections must not cross a fork.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from shared.db.engine import create_engine
from shared.errors import PermanentError
from shared.notify_config import NO_NOTIFICATIONS, NotifyConfig, load_notify_file
from shared.settings import Settings


class WorkerContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        # The writer (write=True) and the reader, each built on first use.
        self._engines: dict[bool, Engine] = {}
        self._pid = 0
        self._notify = NO_NOTIFICATIONS

    def configure(self, settings: Settings) -> None:
        """Take the settings, and read the notify file they name (ConfigError if it is bad)."""
        self.close()
        self._notify = load_notify_file(settings.notify_file)
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise PermanentError("the worker context is not configured; run `tuxhook worker`")
        return self._settings

    def notify(self) -> NotifyConfig:
        return self._notify

    def public_url(self) -> str | None:
        return self._settings.public_url if self._settings is not None else None

    def engine(self) -> Engine:
        """The engine jobs write with (on SQLite, its transactions take the write lock)."""
        return self._get(write=True)

    def reader(self) -> Engine:
        """An engine for reads alone: on SQLite, it never waits for a writer's lock."""
        return self._get(write=False)

    def _get(self, *, write: bool) -> Engine:
        if self._engines and self._pid != os.getpid():
            # Inherited over a fork: forget the parent's connections without closing them.
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines = {}
        if write not in self._engines:
            self._engines[write] = self._create(write=write)
            self._pid = os.getpid()
        return self._engines[write]

    def _create(self, *, write: bool) -> Engine:
        settings = self.settings
        return create_engine(
            settings.database_url,
            lock_timeout_s=settings.database_lock_timeout_s,
            write=write,
            application_name="tuxhook-worker",
        )

    def close(self) -> None:
        # Only the process that built the engines may close their connections.
        if self._pid == os.getpid():
            for engine in self._engines.values():
                engine.dispose()
        self._engines = {}


CONTEXT = WorkerContext()
