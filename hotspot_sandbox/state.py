"""The sandbox's memory: permits, request counters, the rate window, and the knobs in force.

Every method takes `self._lock` and never awaits inside it, so the state stays consistent
whether the app runs on one event loop (uvicorn) or is driven from several threads.
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hotspot.models import Spot
from hotspot_sandbox.catalogue import Catalogue
from hotspot_sandbox.permits import (
    NewPermit,
    PermitRecord,
    SandboxError,
    parse_permit,
    plate_of,
    spot_id_of,
)


class Knobs(BaseModel):
    """The failure knobs; all zero means a perfectly behaved HotSpot."""

    model_config = ConfigDict(extra="forbid")

    delay_min: float = Field(default=0.0, ge=0, description="Propagation delay, seconds.")
    delay_max: float = Field(default=0.0, ge=0)
    rate_limit: float = Field(
        default=0.0, ge=0, description="Requests per second per partner key; 0 is off."
    )
    rate_limiter: Literal["sliding", "fixed", "token"] = Field(
        default="sliding",
        description="How the rate limit counts: a sliding second, fixed one-second windows "
        "(bursts at window edges pass, then a 429 comes early), or a token bucket holding "
        "`rate_limit` tokens refilled at `rate_limit` per second.",
    )
    rate_headers: bool = Field(
        default=False,
        description="Announce the limit on every /v1 answer: RateLimit-Limit, -Remaining and "
        "-Reset (whole seconds until the count frees up).",
    )
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share of 502/503 answers.")
    lost_response_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of answers replaced by 504 after the work."
    )
    latency_min: float = Field(default=0.0, ge=0, description="Added before answering, seconds.")
    latency_max: float = Field(default=0.0, ge=0)
    spot_read_barrier: int = Field(
        default=0,
        ge=0,
        description="Spot reads wait until this many are waiting (30 s at most), so that "
        "requests validate at the same moment: races made reproducible. 0 or 1 is off.",
    )

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Knobs:
        if self.delay_min > self.delay_max or self.latency_min > self.latency_max:
            raise ValueError("each *_min must be at most its *_max")
        return self

    def updated(self, update: dict[str, Any]) -> Knobs:
        """These knobs with some changed; a 422 `SandboxError` if the result is invalid."""
        try:
            return Knobs.model_validate({**self.model_dump(), **update})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'knobs'}: {err['msg']}" for err in exc.errors()
            )
            raise SandboxError(422, "invalid_knobs", problems) from exc


@dataclass
class _Counters:
    """What the sandbox has seen since the last reset."""

    requests: Counter[tuple[str, int]]
    lookups: Counter[str]
    window: deque[float]  # admitted in the last second, whatever the limiter
    rate_limited: int = 0
    fixed_start: float = 0.0
    fixed_count: int = 0
    tokens: float = 0.0
    tokens_at: float = -math.inf
    errors_injected: int = 0
    responses_lost: int = 0
    max_per_second: int = 0


class SandboxState:
    """Everything the sandbox remembers, behind one lock."""

    def __init__(self, catalogue: Catalogue, knobs: Knobs) -> None:
        self.catalogue = catalogue
        self._start_catalogue = catalogue.model_copy(deep=True)
        # Spots where HotSpot stopped showing permits to enforcement (changed at runtime).
        self._hidden: set[str] = set()
        self.knobs = knobs
        self._start_knobs = knobs
        self._lock = threading.Lock()
        self._permits: dict[str, PermitRecord] = {}
        self._by_external_id: dict[str, PermitRecord] = {}
        self._counters = _Counters(Counter(), Counter(), deque())

    def configure(self, update: dict[str, Any]) -> Knobs:
        """Change some knobs at runtime."""
        with self._lock:
            self.knobs = self.knobs.updated(update)
            return self.knobs

    def reset(self, update: dict[str, Any]) -> Knobs:
        """Forget permits and counters; knobs back to the start config plus `update`."""
        knobs = self._start_knobs.updated(update)
        with self._lock:
            self.knobs = knobs
            self.catalogue = self._start_catalogue.model_copy(deep=True)
            self._hidden.clear()
            self._permits.clear()
            self._by_external_id.clear()
            self._counters = _Counters(Counter(), Counter(), deque())
            return knobs

    def admit(self) -> tuple[int | None, dict[str, str]]:
        """Count a /v1 request against the rate limit, as the `rate_limiter` knob counts.

        Returns (None when it may proceed, else the whole seconds (at least 1) to put in
        `Retry-After`; the `RateLimit-*` headers to send, if the knobs ask for them).
        """
        now = time.monotonic()
        with self._lock:
            counters, knobs = self._counters, self.knobs
            window, limit = counters.window, knobs.rate_limit
            while window and window[0] <= now - 1.0:
                window.popleft()
            allowed, remaining, reset = True, math.inf, 0.0
            if limit > 0 and knobs.rate_limiter == "sliding":
                allowed = len(window) < limit
                remaining = limit - len(window) - allowed
                reset = window[0] + 1.0 - now if window else 1.0
            elif limit > 0 and knobs.rate_limiter == "fixed":
                start = math.floor(now)
                if start != counters.fixed_start:
                    counters.fixed_start, counters.fixed_count = start, 0
                allowed = counters.fixed_count < limit
                counters.fixed_count += allowed
                remaining, reset = limit - counters.fixed_count, start + 1.0 - now
            elif limit > 0:  # a token bucket, full at first
                refill = (now - counters.tokens_at) * limit
                counters.tokens = min(limit, counters.tokens + refill)
                counters.tokens_at = now
                allowed = counters.tokens >= 1
                counters.tokens -= allowed
                remaining, reset = counters.tokens, max(0.0, 1 - counters.tokens) / limit
            headers = {}
            if knobs.rate_headers and limit > 0:
                headers = {
                    "RateLimit-Limit": str(math.ceil(limit)),
                    "RateLimit-Remaining": str(max(0, math.floor(remaining))),
                    "RateLimit-Reset": str(math.ceil(reset)),
                }
            if not allowed:
                counters.rate_limited += 1
                return max(1, math.ceil(reset)), headers
            window.append(now)
            counters.max_per_second = max(counters.max_per_second, len(window))
            return None, headers

    def record(self, route: str, status: int, *, fault: str | None = None) -> None:
        """Count an answered /v1 request by route and status, and the fault injected, if any."""
        with self._lock:
            self._counters.requests[(route, status)] += 1
            if fault is not None:
                self._counters.errors_injected += 1
                self._counters.responses_lost += fault == "lost"

    def create_permit(self, body: Any, token: str | None) -> tuple[PermitRecord, bool]:
        """The new permit and True, or the one already created with that body and False."""
        request = parse_permit(body)
        with self._lock:
            spot = self.catalogue.spot(request.spot_id)
            if spot is None:
                raise SandboxError(404, "spot_not_found", f"no spot {request.spot_id}")
            if not spot.active:
                raise SandboxError(422, "spot_inactive", f"spot {spot.spot_id} is inactive")
            accepted = token is not None and self.catalogue.accepts(spot.operator, token)
            if token is not None and not accepted:
                raise SandboxError(
                    403, "permission_denied", f"company token not accepted by {spot.operator}"
                )
            existing = self._by_external_id.get(request.external_id)
            if existing is not None:
                if existing.request != request:
                    raise SandboxError(
                        409, "external_id_conflict", "external_id used with a different body"
                    )
                return existing, False
            visible = (accepted or not spot.requires_company_token) and (
                spot.spot_id not in self._hidden
            )
            record = self._new_record(request, accepted=accepted, visible=visible)
            self._permits[record.permit_id] = record
            self._by_external_id[request.external_id] = record
            return record, True

    def _new_record(self, request: NewPermit, *, accepted: bool, visible: bool) -> PermitRecord:
        """A permit that propagates after this permit's own draw of the delay knob."""
        now = datetime.now(UTC)
        delay = random.uniform(self.knobs.delay_min, self.knobs.delay_max)
        propagated_at = now + timedelta(seconds=delay)
        return PermitRecord(
            request=request,
            permit_id=f"pmt_{secrets.token_hex(8)}",
            created_at=now,
            propagated_at=propagated_at,
            visible_at=propagated_at if visible else None,
            with_accepted_token=accepted,
        )

    def permit(self, permit_id: str) -> PermitRecord:
        """The permit, or a 404."""
        with self._lock:
            if (record := self._permits.get(permit_id)) is None:
                raise SandboxError(404, "permit_not_found", f"no permit {permit_id}")
            return record

    def revoke(self, permit_id: str) -> PermitRecord:
        """Revoke the permit (once; revoking again changes nothing)."""
        record = self.permit(permit_id)
        with self._lock:
            record.revoked_at = record.revoked_at or datetime.now(UTC)
            return record

    def lookup(self, plate: str, spot_id: str) -> dict[str, Any]:
        """What enforcement sees: only permits that became visible, valid if one is active."""
        plate, spot_id = plate_of(plate), spot_id_of(spot_id)
        now = datetime.now(UTC)
        with self._lock:
            if self.catalogue.spot(spot_id) is None:
                raise SandboxError(404, "spot_not_found", f"no spot {spot_id}")
            self._counters.lookups[spot_id] += 1
            seen = [
                record
                for record in self._permits.values()
                if spot_id not in self._hidden
                and record.request.plate == plate
                and record.request.spot_id == spot_id
                and record.visible(now)
            ]
        valid = [record for record in seen if record.status(now) == "active"]
        end_time = max((record.request.end_time for record in valid), default=None)
        return {
            "plate": plate,
            "spot_id": spot_id,
            "valid": bool(valid),
            "end_time": end_time.isoformat() if end_time else None,
            "permits": [record.to_json(now) for record in seen],
        }

    def change_spot(self, spot_id: str, update: dict[str, Any]) -> dict[str, Any]:
        """Change a spot at runtime (until the next reset): `active`, `operator`,
        `requires_company_token`, and `shows_permits` (False: enforcement sees none there)."""
        unknown = set(update) - {"active", "operator", "requires_company_token", "shows_permits"}
        if unknown:
            raise SandboxError(422, "invalid_spot_change", f"unknown fields {sorted(unknown)}")
        with self._lock:
            spot = self.catalogue.spot(spot_id)
            if spot is None:
                raise SandboxError(404, "spot_not_found", f"no spot {spot_id}")
            shows = update.pop("shows_permits", None)
            if shows is not None:
                (self._hidden.discard if shows else self._hidden.add)(spot_id)
            try:
                changed = Spot.model_validate({**spot.model_dump(), **update})
            except ValidationError as exc:
                raise SandboxError(422, "invalid_spot_change", str(exc)) from exc
            # A listed spot comes first in lookups, so this also overrides a ranged one.
            others = [listed for listed in self.catalogue.spots if listed.spot_id != spot_id]
            self.catalogue.spots = [changed, *others]
            return {**changed.model_dump(), "shows_permits": spot_id not in self._hidden}

    def revoke_token(self, token: str) -> list[str]:
        """Every operator stops accepting the company token; the operators that did."""
        with self._lock:
            revoked = [op.name for op in self.catalogue.operators if token in op.company_tokens]
            for operator in self.catalogue.operators:
                operator.company_tokens = [t for t in operator.company_tokens if t != token]
            return revoked

    def snapshot(self) -> dict[str, Any]:
        """Counters, knobs and every permit, for tests, the demo and the benchmarks."""
        now = datetime.now(UTC)
        with self._lock:
            counters = self._counters
            requests: dict[str, dict[str, int]] = {}
            for (route, status), count in sorted(counters.requests.items()):
                requests.setdefault(route, {})[str(status)] = count
            return {
                "knobs": self.knobs.model_dump(),
                "requests": requests,
                "rate_limited": counters.rate_limited,
                "errors_injected": counters.errors_injected,
                "responses_lost": counters.responses_lost,
                "max_requests_in_one_second": counters.max_per_second,
                "lookups": dict(counters.lookups),
                "permits": [record.to_state(now) for record in self._permits.values()],
            }
