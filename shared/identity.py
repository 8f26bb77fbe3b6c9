"""Identity of a delivery (kind, uid, body digest) and the RQ job id derived from it."""

import hashlib


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def job_id(kind: str, uid: str, digest: str) -> str:
    """RQ allows [A-Za-z0-9_-] in job ids; kind and uid are validated to fit already."""
    return f"{kind}-{uid}-{digest[:40]}"
