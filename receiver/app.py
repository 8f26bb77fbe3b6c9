"""Build the receiver's aiohttp application from Settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from receiver.callbacks import tuxsuite_callback
from receiver.enqueue import Enqueuer
from receiver.health import healthz, readyz
from receiver.intake import Intake
from receiver.keys import KeyRing
from receiver.middleware import request_context
from receiver.outcomes import setup_outcomes
from receiver.state import STATE, ReceiverState
from receiver.verify import SignatureVerifier
from shared.errors import ConfigError
from shared.keys import load_keys_file
from shared.redis_conn import connect
from shared.settings import Settings


def build_keyring(settings: Settings) -> KeyRing:
    file_keys = load_keys_file(settings.tuxsuite_keys_file) if settings.tuxsuite_keys_file else ()
    return KeyRing(
        file_keys,
        url=settings.tuxsuite_keys_url,
        token=settings.tuxsuite_token,
        min_interval_s=settings.keys_refetch_interval_s,
    )


def check_can_verify(settings: Settings) -> None:
    """Refuse to start with no way to verify anything: never accept unsigned callbacks."""
    if not (settings.tuxsuite_keys_file or settings.tuxsuite_keys_url or settings.users_file):
        raise ConfigError(
            "nothing to verify callbacks with: set TUXHOOK_TUXSUITE_KEYS_FILE, "
            "TUXHOOK_TUXSUITE_KEYS_URL or TUXHOOK_USERS_FILE"
        )


def build_state(settings: Settings) -> ReceiverState:
    check_can_verify(settings)
    keyring = build_keyring(settings)
    enqueuer = Enqueuer(connect(settings.redis_url), settings.job_timeout_s)
    return ReceiverState(
        settings=settings,
        keyring=keyring,
        verifier=SignatureVerifier(keyring),
        enqueuer=enqueuer,
        intake=Intake(enqueuer),
    )


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    st = app[STATE]
    await st.keyring.start()
    yield
    await st.keyring.close()
    st.enqueuer.close()


def create_app(settings: Settings) -> web.Application:
    """The receiver; raises ConfigError when the settings cannot work."""
    app = web.Application(middlewares=[request_context], client_max_size=settings.max_body_bytes)
    app[STATE] = build_state(settings)
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_post("/v1/callbacks/tuxsuite", tuxsuite_callback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_outcomes(app, settings)
    return app
