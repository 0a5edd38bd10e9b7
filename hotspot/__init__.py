"""HotSpot's partner API: the client the pipeline uses, its models and its errors.

The sandbox, a program of its own, lives in `hotspot_sandbox` and shares only these models.
"""

from hotspot.client import HotSpotClient
from hotspot.errors import (
    ExternalIdConflict,
    HotSpotAPIError,
    HotSpotError,
    HotSpotRateLimited,
    HotSpotUnavailable,
    InvalidRequest,
    PermissionDenied,
    PermitNotFound,
    SpotInactive,
    SpotNotFound,
    Unauthorized,
)
from hotspot.models import Lookup, Permit, PermitRequest, PermitStatus, Spot
from hotspot.throttle import Limiter, TokenBucket

__all__ = [
    "ExternalIdConflict",
    "HotSpotAPIError",
    "HotSpotClient",
    "HotSpotError",
    "HotSpotRateLimited",
    "HotSpotUnavailable",
    "InvalidRequest",
    "Limiter",
    "Lookup",
    "PermissionDenied",
    "Permit",
    "PermitNotFound",
    "PermitRequest",
    "PermitStatus",
    "Spot",
    "SpotInactive",
    "SpotNotFound",
    "TokenBucket",
    "Unauthorized",
]
