"""What the receiver's handlers share, stored on the aiohttp application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from receiver.auth import Authenticator
from receiver.enqueue import Enqueuer
from receiver.intake import Intake
from receiver.keys import KeyRing
from receiver.limits import BodyBudget
from receiver.metrics import ReceiverMetrics
from receiver.verify import SignatureVerifier
from shared.settings import Settings


@dataclass
class ReceiverState:
    settings: Settings
    keyring: KeyRing
    verifier: SignatureVerifier
    enqueuer: Enqueuer
    intake: Intake
    authenticator: Authenticator
    metrics: ReceiverMetrics
    budget: BodyBudget


STATE = web.AppKey("tuxhook_state", ReceiverState)

# The fields of a request's one log line beyond what the middleware knows (method, status...):
# the handlers add the kind, uid, job id; the metrics read the kind. Cheaper than structlog's
# context variables, which the middleware keeps for the request id alone.
LOG_FIELDS = web.RequestKey("tuxhook_log_fields", dict[str, Any])


def state(request: web.Request) -> ReceiverState:
    return request.app[STATE]
