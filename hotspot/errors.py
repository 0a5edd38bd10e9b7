"""The errors the HotSpot client raises, as one documented tree.

    HotSpotError                  base; never raised itself
    ├── HotSpotUnavailable        a transient fault outlived the retries (retryable)
    │   └── HotSpotRateLimited    HotSpot still answered 429 on the last attempt
    └── HotSpotAPIError           a documented error response (permanent)
        ├── InvalidRequest        400, any code
        ├── Unauthorized          401 unauthorized: the partner key is missing or wrong
        ├── PermissionDenied      403 permission_denied: the company token is not accepted
        ├── SpotNotFound          404 spot_not_found
        ├── PermitNotFound        404 on a permit, or any other 404
        ├── ExternalIdConflict    409 external_id_conflict: same external_id, different body
        └── SpotInactive          422 spot_inactive

Every error carries the method and path it came from and, where known, the HTTP status, the
API's error code and message. None carries request headers, so no secret can leak through one.
"""

from __future__ import annotations

from typing import ClassVar


class HotSpotError(Exception):
    """Base of every error the HotSpot client raises, so callers can catch them all at once."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.code = code

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        status = f"{self.status_code} " if self.status_code is not None else ""
        code = f"{self.code}: " if self.code else ""
        return f"{where}{status}{code}{self.message}"


class HotSpotUnavailable(HotSpotError):
    """HotSpot could not be reached or answered garbage on every attempt; worth retrying later.

    Raised for timeouts, connection errors, 5xx responses and bodies that are not the
    documented JSON. `retry_after` is HotSpot's own hint in seconds, when it sent one.
    """

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status_code=status_code, code=code)
        self.retry_after = retry_after


class HotSpotRateLimited(HotSpotUnavailable):
    """HotSpot still refused with 429 on the last attempt; wait `retry_after` seconds."""


class HotSpotAPIError(HotSpotError):
    """HotSpot answered with a documented error; retrying the same call cannot help."""


class InvalidRequest(HotSpotAPIError):
    """400: a field was refused (plate, province, times, SpotID format)."""


class Unauthorized(HotSpotAPIError):
    """401: the partner key is missing or wrong."""


class PermissionDenied(HotSpotAPIError):
    """403: a company token was sent but the spot's operator does not accept it."""


class SpotNotFound(HotSpotAPIError):
    """404 spot_not_found: HotSpot knows no spot with that SpotID."""


class PermitNotFound(HotSpotAPIError):
    """404 on a permit (or any other 404 that is not spot_not_found)."""


class ExternalIdConflict(HotSpotAPIError):
    """409: the external_id was already used for a permit with a different body."""


class SpotInactive(HotSpotAPIError):
    """422: the spot exists but is inactive, so it takes no permits."""


_BY_STATUS: dict[int, type[HotSpotAPIError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: PermissionDenied,
    404: PermitNotFound,
    409: ExternalIdConflict,
    422: SpotInactive,
}


def api_error_class(status_code: int, code: str) -> type[HotSpotAPIError]:
    """The error class for a documented error response, so the client maps it in one place."""
    if status_code == 404 and code == "spot_not_found":
        return SpotNotFound
    return _BY_STATUS.get(status_code, HotSpotAPIError)
