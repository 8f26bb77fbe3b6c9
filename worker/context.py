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
        self._engine: Engine | None = None
        self._pid = 0
        self._notify = NO_NOTIFICATIONS

    def configure(self, settings: Settings) -> None:
        """Take the settings, and read the notify file they name (ConfigError if it is bad)."""
        self.close()
        self._notify = load_notify_file(settings.notify_file)
        self._settings = settings

    def notify(self) -> NotifyConfig:
        return self._notify

    def public_url(self) -> str | None:
        return self._settings.public_url if self._settings is not None else None

    def engine(self) -> Engine:
        if self._engine is not None and self._pid != os.getpid():
            # Inherited over a fork: forget the parent's connections without closing them.
            self._engine.dispose(close=False)
            self._engine = None
        if self._engine is None:
            self._engine = self._create()
            self._pid = os.getpid()
        return self._engine

    def _create(self) -> Engine:
        if self._settings is None:
            raise PermanentError("the worker context is not configured; run `tuxhook worker`")
        return create_engine(
            self._settings.database_url,
            lock_timeout_s=self._settings.database_lock_timeout_s,
            write=True,
            application_name="tuxhook-worker",
        )

    def close(self) -> None:
        # Only the process that built the engine may close its connections.
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None


CONTEXT = WorkerContext()
