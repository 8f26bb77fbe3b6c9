"""Build the receiver's aiohttp application from Settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import structlog
from aiohttp import web

from receiver.auth import Authenticator
from receiver.callbacks import tuxsuite_callback
from receiver.cases import setup_cases
from receiver.draining import IN_FLIGHT, InFlight
from receiver.durability import report_durability
from receiver.enqueue import Enqueuer
from receiver.events import post_event
from receiver.health import healthz, readyz
from receiver.intake import Intake
from receiver.keys import KeyRing, log_skipped
from receiver.limits import BodyBudget
from receiver.metrics import BodyCollector, ReceiverMetrics
from receiver.metrics_http import metrics_endpoint
from receiver.middleware import request_context
from receiver.outcomes import setup_outcomes
from receiver.pages import setup_pages
from receiver.regressions import setup_regressions
from receiver.state import STATE, ReceiverState
from receiver.users import READ, AuthConfig, load_users_file
from receiver.verify import SignatureVerifier
from shared.constants import (
    LINGER_S,
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADER_FIELDS,
    READ_BUFFER_BYTES,
)
from shared.errors import ConfigError
from shared.keys import NO_KEYS, load_keys_file
from shared.redis_conn import connect
from shared.settings import Settings

log = structlog.get_logger("tuxhook.receiver")


def build_keyring(settings: Settings) -> KeyRing:
    file_keys = NO_KEYS
    if settings.tuxsuite_keys_file:  # a file with no usable key stops start-up (ConfigError)
        file_keys = load_keys_file(settings.tuxsuite_keys_file)
        log_skipped(file_keys.skipped, str(settings.tuxsuite_keys_file))
    return KeyRing(
        file_keys,
        url=settings.tuxsuite_keys_url,
        token=settings.tuxsuite_token,
        min_interval_s=settings.keys_refetch_interval_s,
        max_age_s=settings.keys_max_age_s,
    )


def check_can_verify(settings: Settings) -> None:
    """Refuse to start with no way to verify anything: never accept unsigned callbacks."""
    if not (settings.tuxsuite_keys_file or settings.tuxsuite_keys_url or settings.users_file):
        raise ConfigError(
            "nothing to verify callbacks with: set TUXHOOK_TUXSUITE_KEYS_FILE, "
            "TUXHOOK_TUXSUITE_KEYS_URL or TUXHOOK_USERS_FILE"
        )


def build_authenticator(settings: Settings) -> Authenticator:
    config = load_users_file(settings.users_file) if settings.users_file else AuthConfig()
    return Authenticator(config, settings.keys_refetch_interval_s)


def warn_if_no_one_reads(st: ReceiverState) -> None:
    users = st.authenticator.config.users.values()
    if st.settings.read_access == "users" and not any(READ in u.roles for u in users):
        log.warning(
            "no_reader",
            detail="reads are closed and no user has the read role: the outcome API, pages"
            " and /metrics answer 401 to everyone (docs/auth.md)",
        )


def build_state(settings: Settings) -> ReceiverState:
    check_can_verify(settings)
    authenticator = build_authenticator(settings)
    keyring = build_keyring(settings)
    metrics = ReceiverMetrics(connect(settings.redis_url))
    budget = BodyBudget(
        settings.max_buffered_bytes, settings.max_body_bytes, metrics.busy.labels("body_bytes").inc
    )
    metrics.registry.register(BodyCollector(budget))
    enqueuer = Enqueuer(settings.redis_url, settings.job_timeout_s, metrics.enqueue_latency.observe)
    return ReceiverState(
        settings=settings,
        keyring=keyring,
        verifier=SignatureVerifier(keyring),
        enqueuer=enqueuer,
        intake=Intake(enqueuer),
        authenticator=authenticator,
        metrics=metrics,
        budget=budget,
    )


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    st = app[STATE]
    warn_if_no_one_reads(st)
    await st.keyring.start()
    await st.authenticator.start()
    await report_durability(st.enqueuer.redis)
    yield
    await st.authenticator.close()
    await st.keyring.close()
    await st.enqueuer.close()


def handler_args(settings: Settings) -> dict[str, Any]:
    """aiohttp's protocol settings: what a client may make the receiver hold, and how long."""
    return {
        # Until a request's head is complete, from the connection's opening or the end of its
        # previous answer: this covers slow headers and idle keep-alive connections alike.
        "keepalive_timeout": settings.header_timeout_s,
        # How long a body the handler did not read is drained (undecoded) after the answer.
        "lingering_time": LINGER_S,
        # Bodies are decoded only by the handlers that read them (receiver/content_encoding.py).
        "auto_decompress": False,
        "max_line_size": MAX_HEADER_FIELD_BYTES,
        "max_field_size": MAX_HEADER_FIELD_BYTES,
        "max_headers": MAX_HEADER_FIELDS,
        "read_bufsize": READ_BUFFER_BYTES,
    }


def create_app(settings: Settings) -> web.Application:
    """The receiver; raises ConfigError when the settings cannot work."""
    app = web.Application(
        middlewares=[request_context],
        client_max_size=settings.max_body_bytes,
        handler_args=handler_args(settings),
    )
    app[STATE] = build_state(settings)
    app[IN_FLIGHT] = InFlight()
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_post("/v1/callbacks/tuxsuite", tuxsuite_callback)
    app.router.add_post("/v1/events", post_event)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    setup_outcomes(app, settings)
    setup_cases(app)
    setup_pages(app)
    setup_regressions(app)
    return app
