"""Every error tuxhook raises on purpose. Each error code is a class: its HTTP status, its
stable code and the headers its answer carries are the class's, never the raise site's.

Refusal's subclasses are the receiver's answers, `{"error": code, "message": text}`, listed in
the README's error table (tests/test_error_table.py holds the two together). The others are
errors of a command, of a start-up or of a job, which the CLI prints as one line.
"""

from typing import ClassVar

from shared.constants import AUTH_REALM, RETRY_AFTER_S


class TuxhookError(Exception):
    """Base of every error tuxhook raises on purpose; the receiver answers it as JSON."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = self.default_headers()

    @classmethod
    def default_headers(cls) -> dict[str, str]:
        return {}

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


# Errors of a command, a start-up or a job.


class ConfigError(TuxhookError):
    """A setting or a file it names is missing or malformed; raised at start-up."""

    code = "config_error"


class SchemaOutdated(ConfigError):
    """The store's schema is not the one this code writes: `tuxhook db upgrade` has not run."""

    code = "schema_outdated"


class UsageError(TuxhookError):
    """A command was given arguments that cannot work together, or a malformed value."""

    status = 400
    code = "usage_error"


class TransientError(TuxhookError):
    """A failure worth retrying: the database was locked or unreachable."""

    code = "transient"


class PermanentError(TuxhookError):
    """A failure no retry will cure; the job goes to the failed registry at once."""

    code = "permanent"


class SinkUnavailable(TransientError):
    """A notification sink answered 5xx, 408 or 429, timed out or could not be reached."""

    code = "sink_unavailable"


class SinkRejected(PermanentError):
    """A notification sink refused a delivery (any other 4xx, a redirect), or the delivery
    cannot be made (a submission KCIDB's schema refuses): retrying would not change it."""

    code = "sink_rejected"


# The receiver's answers. A class that sets no code of its own is a family, never raised.


class Refusal(TuxhookError):
    """A request the receiver refuses; it queues nothing."""


class BadRequest(Refusal):
    status = 400


class InvalidJSON(BadRequest):
    code = "invalid_json"


class BadBody(BadRequest):
    """The body could not be read as its Content-Encoding or chunking says."""

    code = "bad_body"


class InvalidParameter(BadRequest):
    """A query parameter the read API does not know, or cannot use."""

    code = "invalid_parameter"


class MalformedRequest(BadRequest):
    """aiohttp could not parse the request's line, headers or framing."""

    code = "bad_request"


class RequestTimeout(Refusal):
    """The body did not arrive whole within TUXHOOK_BODY_TIMEOUT; the connection closes."""

    status = 408
    code = "request_timeout"


class Unauthorized(Refusal):
    status = 401


class MissingSignature(Unauthorized):
    code = "missing_signature"


class BadSignature(Unauthorized):
    code = "bad_signature"


# One message for every failure that involves a secret: an unknown user, a wrong key and a
# bad signature must be indistinguishable.
BAD_CREDENTIALS = "the credentials are not valid"


class CredentialsRefused(Unauthorized):
    """Token authentication failed: the answer challenges for Basic or Bearer credentials."""

    # RFC 6750: the error attribute says the credentials given were refused.
    challenge_error: ClassVar[str] = ', error="invalid_token"'

    @classmethod
    def default_headers(cls) -> dict[str, str]:
        challenge = f'Basic realm="{AUTH_REALM}", charset="UTF-8", Bearer realm="{AUTH_REALM}"'
        return {"WWW-Authenticate": challenge + cls.challenge_error}


class MissingCredentials(CredentialsRefused):
    code = "missing_credentials"
    challenge_error = ""  # RFC 6750: no error attribute when the request carried none


class BadCredentials(CredentialsRefused):
    code = "bad_credentials"

    def __init__(self, message: str = BAD_CREDENTIALS) -> None:
        super().__init__(message)


class BadIssuer(CredentialsRefused):
    code = "bad_issuer"

    def __init__(self, message: str = "the token's issuer is not allowed here") -> None:
        super().__init__(message)


class TokenExpired(CredentialsRefused):
    code = "token_expired"


class TokenNotYetValid(CredentialsRefused):
    code = "token_not_yet_valid"


class TokenTooLongLived(CredentialsRefused):
    code = "token_too_long_lived"


class TokenExpiresBeforeIssued(CredentialsRefused):
    """`exp` is not after `iat`."""

    code = "token_exp_before_iat"


class TokenTimeNotNumber(CredentialsRefused):
    """`exp`, `iat` or `nbf` is not a JSON number (a string of digits, a boolean...)."""

    code = "token_time_not_a_number"


class TokenDuplicateKey(CredentialsRefused):
    """The token's header or claims repeat a key, which JSON parsers resolve differently."""

    code = "token_duplicate_key"


class TokenAudienceRefused(CredentialsRefused):
    """The token names an audience (even "" or []) where none is configured."""

    code = "token_audience_refused"


class Forbidden(Refusal):
    status = 403


class ForbiddenSlug(Forbidden):
    """The credentials are valid, but their user may not report this slug or repository."""

    code = "forbidden_slug"


class ForbiddenRole(Forbidden):
    """The credentials are valid, but their user lacks the role (read, report) this needs."""

    code = "forbidden"


class NotFound(Refusal):
    status = 404
    code = "not_found"


class MethodNotAllowed(Refusal):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(Refusal):
    status = 413
    code = "payload_too_large"


class HeadersTooLarge(Refusal):
    """A request line or header field over 8190 bytes, or more than 64 header fields."""

    status = 431
    code = "headers_too_large"


class UnsupportedMediaType(Refusal):
    status = 415
    code = "unsupported_media_type"


class InvalidPayload(Refusal):
    status = 422
    code = "invalid_payload"


class UnsupportedKind(InvalidPayload):
    code = "unsupported_kind"


class RetryLater(Refusal):
    """Not the request's fault: a service it needs is down. The answer says when to retry."""

    status = 503

    @classmethod
    def default_headers(cls) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_S)}


class QueueUnavailable(RetryLater):
    """Redis did not answer."""

    code = "queue_unavailable"


class KeysUnavailable(RetryLater):
    """Keys are expected (a keys URL, an OIDC issuer) but none could be fetched yet."""

    code = "keys_unavailable"


class DatabaseUnavailable(RetryLater):
    """The outcome store cannot be reached."""

    code = "database_unavailable"


class Busy(RetryLater):
    """The receiver holds as many connections, or as many body bytes, as it may."""

    code = "busy"
