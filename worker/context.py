"""What the handlers of one worker process share: the store's engine, made once from Settings.

`tuxhook worker` (or a test) calls `configure` at the edge; handlers call `engine()`. The engine
is built on first use and then reused for every job the process runs. A forked child (a pool
member, a work horse) builds its own: pooled connections must not cross a fork.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine

from shared.db.engine import create_engine
from shared.errors import PermanentError
from shared.settings import Settings


class WorkerContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._pid = 0

    def configure(self, settings: Settings) -> None:
        self.close()
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise PermanentError("the worker context is not configured; run `tuxhook worker`")
        return self._settings

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
        settings = self.settings
        return create_engine(
            settings.database_url,
            lock_timeout_s=settings.database_lock_timeout_s,
            write=True,
            application_name="tuxhook-worker",
        )

    def close(self) -> None:
        # Only the process that built the engine may close its connections.
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None


CONTEXT = WorkerContext()
