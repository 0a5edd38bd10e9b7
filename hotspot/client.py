"""The HotSpot partner API client: the only code that knows HotSpot's URLs, headers and JSON.

Transient faults (429, 5xx, timeouts, connection errors, bodies that are not the documented
JSON) are retried here with exponential backoff and full jitter; a 429 or 503 `Retry-After`
holds every client of this process sharing the partner key (and, with a hold file, every
process of the machine). Requests are paced per partner key by `hotspot.throttle.AdaptivePacer`,
which learns HotSpot's limit from its 429s and `RateLimit-*` headers when no rate is configured.
Documented 4xx errors are raised at once as `HotSpotAPIError` subclasses.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from hotspot.errors import (
    HotSpotError,
    HotSpotRateLimited,
    HotSpotUnavailable,
    api_error_class,
)
from hotspot.models import Lookup, Permit, PermitRequest, Spot
from hotspot.throttle import Limiter, key_id, shared_gate, shared_pacer

logger = logging.getLogger(__name__)

T = TypeVar("T")
TOKEN_HEADER = "X-HotSpot-Company-Token"
RATE_HEADERS = ("Limit", "Remaining", "Reset")  # RateLimit-* or X-RateLimit-*, when sent


class _SpotList(BaseModel):
    """The body of `GET /v1/spots`."""

    spots: list[Spot]


class HotSpotClient:
    """One partner key's view of HotSpot; use as `async with HotSpotClient(...) as hotspot:`."""

    def __init__(
        self,
        base_url: str,
        partner_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        max_attempts: int = 6,
        backoff: float = 0.5,
        backoff_max: float = 15.0,
        max_concurrency: int = 8,
        rate_limit: float = 0.0,
        limiter: Limiter | None = None,
        holds_file: Path | None = None,
    ) -> None:
        """`rate_limit` > 0 caps the pace (0: learn HotSpot's limit); `limiter` paces on top,
        e.g. across workers; `holds_file` shares Retry-After holds with other processes."""
        self._base_url = base_url.rstrip("/")
        self._partner_key = partner_key
        self._transport = transport
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._semaphore = asyncio.Semaphore(max_concurrency)
        key = key_id(self._base_url, partner_key)
        self._gate = shared_gate(key, holds_file)
        self._pacer = shared_pacer(key, ceiling=rate_limit)
        self._limiter = limiter
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"HotSpotClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> HotSpotClient:
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            transport=self._transport,
            verify=_tls_context(),
            timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._partner_key}"},
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def get_spot(self, spot_id: str) -> Spot:
        """The spot with that SpotID; `SpotNotFound` if HotSpot has none."""
        return await self._call("GET", f"/v1/spots/{quote(spot_id, safe='')}", Spot.model_validate)

    async def list_spots(self, operator: str) -> list[Spot]:
        """Every spot of one operator."""
        spots = await self._call(
            "GET", "/v1/spots", _SpotList.model_validate, params={"operator": operator}
        )
        return spots.spots

    async def create_permit(
        self, permit: PermitRequest, *, company_token: str | None = None
    ) -> Permit:
        """Create the permit, or get the one already created with the same `external_id`."""
        body = permit.model_dump(mode="json")
        return await self._call(
            "POST", "/v1/permits", Permit.model_validate, json=body, company_token=company_token
        )

    async def get_permit(self, permit_id: str, *, company_token: str | None = None) -> Permit:
        """The permit with its current status."""
        path = f"/v1/permits/{quote(permit_id, safe='')}"
        return await self._call("GET", path, Permit.model_validate, company_token=company_token)

    async def revoke_permit(self, permit_id: str, *, company_token: str | None = None) -> Permit:
        """Revoke the permit; revoking it again is harmless."""
        path = f"/v1/permits/{quote(permit_id, safe='')}"
        return await self._call("DELETE", path, Permit.model_validate, company_token=company_token)

    async def lookup(self, plate: str, spot_id: str, *, company_token: str | None = None) -> Lookup:
        """What enforcement sees for this plate at this spot."""
        return await self._call(
            "GET",
            "/v1/enforcement/lookup",
            Lookup.model_validate,
            params={"plate": plate, "spot_id": spot_id},
            company_token=company_token,
        )

    async def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        company_token: str | None = None,
    ) -> T:
        """Send the request until it succeeds, fails permanently, or runs out of attempts."""
        headers = {TOKEN_HEADER: company_token} if company_token else {}
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(method, path, parse, params, json, headers)
            except HotSpotError as exc:
                self._scrub(exc, company_token)
                if not isinstance(exc, HotSpotUnavailable) or attempt >= self._max_attempts:
                    raise
                if exc.retry_after and self._limiter is not None:
                    await self._limiter.hold(exc.retry_after)
                delay = self._retry_delay(attempt, exc)
                logger.warning(
                    "HotSpot %s %s failed (%s), attempt %d of %d; retrying in %.2fs",
                    method,
                    path,
                    _kind(exc),
                    attempt,
                    self._max_attempts,
                    delay,
                )
                await asyncio.sleep(delay)

    def _retry_delay(self, attempt: int, exc: HotSpotUnavailable) -> float:
        """Full-jitter exponential backoff, but never shorter than HotSpot's Retry-After."""
        ceiling = min(self._backoff_max, self._backoff * 2 ** (attempt - 1))
        return max(random.uniform(0, ceiling), exc.retry_after or 0.0)

    async def _wait_turn(self) -> None:
        """Wait for the key's pace slot (after any Retry-After), then for the injected limiter
        and any Retry-After begun meanwhile."""
        await self._pacer.acquire()
        if self._limiter is not None:
            await self._limiter.acquire()
            await self._gate.wait()

    async def _attempt(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> T:
        """One request, sent when the key's gate, limiter and this client's semaphore allow."""
        if self._http is None:
            raise RuntimeError("use the client as `async with HotSpotClient(...) as hotspot:`")
        async with self._semaphore:
            await self._wait_turn()
            sent_at = time.monotonic()
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TimeoutException as exc:
                raise HotSpotUnavailable(
                    f"timed out ({type(exc).__name__})", method=method, path=path, code="timeout"
                ) from exc
            except httpx.RequestError as exc:
                raise HotSpotUnavailable(
                    f"connection failed ({type(exc).__name__})",
                    method=method,
                    path=path,
                    code="connection_error",
                ) from exc
        logger.debug("HotSpot %s %s -> %d", method, path, response.status_code)
        self._learn(response, sent_at)
        return self._parse(response, method, path, parse)

    def _learn(self, response: httpx.Response, sent_at: float) -> None:
        """Tell the pacer what this answer says about HotSpot's rate limit."""
        if response.status_code == 429:
            self._pacer.refused(sent_at, _retry_after(response))
        elif response.status_code < 500:  # an outage says nothing about the rate
            self._pacer.succeeded(sent_at)
        limit, remaining, reset = (_rate_header(response, name) for name in RATE_HEADERS)
        if limit is not None or remaining is not None:
            self._pacer.announced(limit=limit, remaining=remaining, reset=reset)

    def _parse(
        self, response: httpx.Response, method: str, path: str, parse: Callable[[Any], T]
    ) -> T:
        """The parsed body of a 2xx, or the mapped error for anything else."""
        status = response.status_code
        if response.is_success:
            try:
                return parse(response.json())
            except (ValueError, ValidationError) as exc:
                raise HotSpotUnavailable(
                    f"success body is not HotSpot's documented JSON ({type(exc).__name__})",
                    method=method,
                    path=path,
                    status_code=status,
                    code="bad_response",
                ) from exc
        retry_after = _retry_after(response) if status in (429, 503) else None
        if retry_after is not None:
            self._gate.close_for(retry_after)
        code, message = _error_fields(response)
        context: dict[str, Any] = {"method": method, "path": path, "status_code": status}
        if status == 429:
            raise HotSpotRateLimited(
                message, code=code or "rate_limited", retry_after=retry_after, **context
            )
        if status >= 500 or code is None:
            raise HotSpotUnavailable(
                message, code=code or "bad_response", retry_after=retry_after, **context
            )
        raise api_error_class(status, code)(message, code=code, **context)

    def _scrub(self, exc: HotSpotError, company_token: str | None) -> None:
        """Replace any secret HotSpot echoed into the message, so the error is safe to log."""
        for secret in (self._partner_key, company_token):
            if secret and secret in exc.message:
                exc.message = exc.message.replace(secret, "***")
                exc.args = (exc.message,)


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) of a documented error body; (None, a description) for anything else."""
    try:
        body = response.json()
        return str(body["error"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return None, f"HTTP {response.status_code} with an undocumented body ({kind})"


def _retry_after(response: httpx.Response) -> float | None:
    """HotSpot's `Retry-After` in seconds, or None if absent or not a finite number of seconds."""
    try:
        seconds = float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _rate_header(response: httpx.Response, name: str) -> float | None:
    """A `RateLimit-<name>` (or `X-RateLimit-<name>`) header as a number, or None.

    A reset that looks like a Unix time (as some APIs send) becomes seconds from now.
    """
    raw = response.headers.get(f"RateLimit-{name}") or response.headers.get(f"X-RateLimit-{name}")
    try:
        value = float((raw or "").split(",")[0].split(";")[0])
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value - time.time() if name == "Reset" and value > 1e9 else value


def _kind(exc: HotSpotError) -> str:
    """A short description of a failure for the retry log line, e.g. `503 unavailable`."""
    return " ".join(str(part) for part in (exc.status_code, exc.code) if part is not None)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, made once per process: loading the CA bundle costs
    about 20 ms of CPU, and every step of every run opens a client."""
    return httpx.create_ssl_context()
