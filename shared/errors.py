"""One error base: each subclass carries an HTTP status and a stable code."""

from collections.abc import Mapping


class TuxhookError(Exception):
    """Base of every error tuxhook raises on purpose; the receiver answers it as JSON."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self, message: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class ConfigError(TuxhookError):
    """A setting or a file it names is missing or malformed; raised at start-up."""

    code = "config_error"


class Unauthorized(TuxhookError):
    status = 401
    code = "bad_credentials"


class Forbidden(TuxhookError):
    status = 403
    code = "forbidden"


class NotFound(TuxhookError):
    status = 404
    code = "not_found"


class InvalidJSON(TuxhookError):
    status = 400
    code = "invalid_json"


class BadRequest(TuxhookError):
    status = 400
    code = "bad_request"


class PayloadTooLarge(TuxhookError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(TuxhookError):
    status = 415
    code = "unsupported_media_type"


class InvalidPayload(TuxhookError):
    status = 422
    code = "invalid_payload"


class ServiceUnavailable(TuxhookError):
    status = 503
    code = "queue_unavailable"


class DatabaseUnavailable(TuxhookError):
    """The outcome store cannot be reached, or its schema is not the one this code needs."""

    status = 503
    code = "database_unavailable"


class TransientError(TuxhookError):
    """A failure worth retrying: the database was locked or unreachable."""

    code = "transient"


class PermanentError(TuxhookError):
    """A failure no retry will cure; the job goes to the failed registry at once."""

    code = "permanent"


class UsageError(TuxhookError):
    """A command was given arguments that cannot work together, or a malformed value."""

    status = 400
    code = "usage_error"
