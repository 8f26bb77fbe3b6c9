"""The RQ release tuxhook is proven against, checked when the receiver and the workers start.

The receiver writes RQ's job hashes itself and embeds RQ's unique-enqueue script
(receiver/rq/); the workers subclass RQ's intermediate queue, maintenance lock and worker pool
(worker/rq/). Those parts reach into RQ's internals, which a minor release may change, so a
process refuses to start under any RQ but the one the contract tests passed with. How to move
to another release: docs/upgrading-rq.md.
"""

from __future__ import annotations

import hashlib
from typing import Final

import rq

from shared.errors import ConfigError

# The RQ minor release (any patch release of it) that the contract tests prove.
RQ_VERSION: Final = "3.0"

# SHA-256 of rq.scripts.UNIQUE_ENQUEUE_SCRIPT, as RQ_VERSION ships it: the script the receiver
# embeds in its batch enqueue (receiver/rq/enqueue_script.py).
UNIQUE_ENQUEUE_SCRIPT_SHA256: Final = (
    "29cab659d28268b2320982269dc1773cebe41620f3fea2abc5ad6d61f2af0a90"
)

UPGRADE_DOC = "docs/upgrading-rq.md"


def minor(version: str) -> str:
    """'3.0' for '3.0.2' (or '3.0')."""
    return ".".join(version.split(".")[:2])


def check_rq_version() -> None:
    """Refuse (ConfigError) to run under an RQ release other than RQ_VERSION."""
    installed = str(rq.__version__)
    if minor(installed) != RQ_VERSION:
        raise ConfigError(
            f"RQ {installed} is installed, but tuxhook is proven against RQ {RQ_VERSION}.x"
            f" only: install the locked versions, or see {UPGRADE_DOC}"
        )


def script_sha256(script: str) -> str:
    return hashlib.sha256(script.encode("utf-8")).hexdigest()


def check_enqueue_script(script: str) -> None:
    """Refuse (ConfigError) to embed an enqueue script other than the one proven."""
    digest = script_sha256(script)
    if digest != UNIQUE_ENQUEUE_SCRIPT_SHA256:
        raise ConfigError(
            f"RQ's unique-enqueue script has SHA-256 {digest[:12]}..., not the"
            f" {UNIQUE_ENQUEUE_SCRIPT_SHA256[:12]}... tuxhook embeds and is proven with:"
            f" see {UPGRADE_DOC}"
        )
