"""A HotSpot stand-in that serves the whole partner API contract over real HTTP.

Used by the demo, the benchmarks and the integration tests. Its knobs (see `Knobs`) make every
failure the contract warns about reproducible; they apply to `/v1` routes only. `/_sandbox/...`
is the control API (no auth): health, state, runtime knob changes and reset.

In front of every `/v1` request, in this order: latency, the partner key (401), the rate limit
(429 with `Retry-After`; counted as the `rate_limiter` knob says, announced in `RateLimit-*`
headers if `rate_headers`), injected faults (502 HTML or 503 JSON, sometimes with `Retry-After`);
after the route has done its work, a lost response (504 HTML, the write stays committed).

The quiet failure: a permit at a spot whose operator requires a company token, pushed without
an accepted one, is created (201) and turns `active` like any other, but enforcement lookups
never show it (its `visible_at` is null in `/_sandbox/state`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import SecretStr
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hotspot_sandbox.catalogue import Catalogue
from hotspot_sandbox.permits import SandboxError
from hotspot_sandbox.state import Knobs, SandboxState

BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
GATEWAY_TIMEOUT = (
    "<html><head><title>504 Gateway Timeout</title></head><body>Gateway Timeout</body></html>"
)


class SandboxConfig(Knobs):
    """What the sandbox starts with: its catalogue, the partner key it accepts, and the knobs."""

    catalogue: Path
    partner_key: SecretStr


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """HotSpot's one error shape."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _state(request: Request) -> SandboxState:
    """The app's one state, as a FastAPI dependency."""
    state: SandboxState = request.app.state.sandbox
    return state


State = Annotated[SandboxState, Depends(_state)]


api = APIRouter(prefix="/v1")
control = APIRouter(prefix="/_sandbox")


class SpotReadBarrier:
    """Holds spot reads until `spot_read_barrier` of them wait; open until the knobs change."""

    BOUND_SECONDS = 30.0

    def __init__(self) -> None:
        self._knobs: Knobs | None = None
        self._waiting = 0
        self._open = asyncio.Event()

    async def wait(self, knobs: Knobs) -> None:
        if knobs.spot_read_barrier < 2:
            return
        if self._knobs is not knobs:  # new knobs (configure, reset): a new barrier
            self._knobs, self._waiting, self._open = knobs, 0, asyncio.Event()
        self._waiting += 1
        if self._waiting >= knobs.spot_read_barrier:
            self._open.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), self.BOUND_SECONDS)


@api.get("/spots/{spot_id}")
async def get_spot(spot_id: str, request: Request, state: State) -> dict[str, Any]:
    """One spot, matched exactly."""
    await request.app.state.spot_reads.wait(state.knobs)
    if (spot := state.catalogue.spot(spot_id)) is None:
        raise SandboxError(404, "spot_not_found", f"no spot {spot_id}")
    return spot.model_dump()


@api.get("/spots")
async def list_spots(operator: str, state: State) -> dict[str, Any]:
    """Every spot of one operator."""
    return {"spots": [spot.model_dump() for spot in state.catalogue.spots_of(operator)]}


@api.post("/permits")
async def create_permit(
    request: Request,
    state: State,
    company_token: Annotated[str | None, Header(alias="X-HotSpot-Company-Token")] = None,
) -> JSONResponse:
    """201 with a new permit, or 200 with the one this external_id already made."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise SandboxError(400, "invalid_request", "the body must be JSON") from exc
    record, created = state.create_permit(body, company_token or None)
    return JSONResponse(record.to_json(datetime.now(UTC)), status_code=201 if created else 200)


@api.get("/permits/{permit_id}")
async def get_permit(permit_id: str, state: State) -> dict[str, Any]:
    """The permit with its status now."""
    return state.permit(permit_id).to_json(datetime.now(UTC))


@api.delete("/permits/{permit_id}")
async def revoke_permit(permit_id: str, state: State) -> dict[str, Any]:
    """Revoke the permit; again is a no-op."""
    return state.revoke(permit_id).to_json(datetime.now(UTC))


@api.get("/enforcement/lookup")
async def lookup(plate: str, spot_id: str, state: State) -> dict[str, Any]:
    """What an officer's device sees."""
    return state.lookup(plate, spot_id)


@control.get("/health")
async def health() -> dict[str, str]:
    """Answers as soon as the server is up, for scripts that start it."""
    return {"status": "ok"}


@control.get("/state")
async def get_state(state: State) -> dict[str, Any]:
    """Counters, knobs and every permit with what only the sandbox knows about it."""
    return state.snapshot()


@control.post("/config")
async def configure(update: Annotated[dict[str, Any], Body()], state: State) -> dict[str, Any]:
    """Change some knobs at runtime; the answer is every knob now in force."""
    return state.configure(update).model_dump()


@control.post("/reset")
async def reset(
    state: State, update: Annotated[dict[str, Any] | None, Body()] = None
) -> dict[str, Any]:
    """Forget permits and counters; knobs back to the start config plus the body's changes."""
    return state.reset(update or {}).model_dump()


@control.post("/spots/{spot_id}")
async def change_spot(
    spot_id: str, update: Annotated[dict[str, Any], Body()], state: State
) -> dict[str, Any]:
    """Change a spot until the next reset: deactivate it, give it another operator, or stop
    showing permits there (`shows_permits: false`)."""
    return state.change_spot(spot_id, update)


@control.post("/tokens/revoke")
async def revoke_token(body: Annotated[dict[str, str], Body()], state: State) -> dict[str, Any]:
    """Every operator stops accepting the company token `{"token": ...}` until the next reset."""
    return {"revoked_by": state.revoke_token(body.get("token", ""))}


def _route_label(request: Request) -> str:
    """`METHOD /route/{template}`, so the state counts routes rather than URLs."""
    for route in api.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL and isinstance(route, APIRoute):
            return f"{request.method} {route.path}"
    return f"{request.method} (no route)"


def _injected_fault() -> Response:
    """A transient fault as gateways send them: 502 HTML, or 503 JSON maybe with Retry-After."""
    if random.random() < 0.5:
        return HTMLResponse(BAD_GATEWAY, status_code=502)
    headers = {"Retry-After": "1"} if random.random() < 0.5 else {}
    return _error(503, "unavailable", "HotSpot is temporarily unavailable", **headers)


async def _through_knobs(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> tuple[Response, str | None]:
    """Apply auth and the knobs around one /v1 request; also say which fault was injected."""
    state: SandboxState = request.app.state.sandbox
    knobs = state.knobs
    if knobs.latency_max > 0:
        await asyncio.sleep(random.uniform(knobs.latency_min, knobs.latency_max))
    expected = f"Bearer {request.app.state.partner_key.get_secret_value()}".encode()
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
        return _error(401, "unauthorized", "missing or wrong partner key"), None
    retry_after, rate_headers = state.admit()
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after), **rate_headers}
        return _error(429, "rate_limited", "too many requests for this key", **headers), None
    if random.random() < knobs.error_rate:
        return _injected_fault(), "error"
    response = await call_next(request)
    if random.random() < knobs.lost_response_rate:
        return HTMLResponse(GATEWAY_TIMEOUT, status_code=504), "lost"
    response.headers.update(rate_headers)
    return response, None


def create_app(config: SandboxConfig) -> FastAPI:
    """The sandbox as an ASGI app, with fresh state from `config`."""
    app = FastAPI(title="HotSpot sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    knobs = Knobs.model_validate(config.model_dump(include=set(Knobs.model_fields)))
    app.state.sandbox = SandboxState(Catalogue.load(config.catalogue), knobs)
    app.state.partner_key = config.partner_key
    app.state.spot_reads = SpotReadBarrier()
    app.include_router(api)
    app.include_router(control)

    @app.middleware("http")
    async def knobs_and_counts(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith("/v1/"):
            return await call_next(request)
        response, fault = await _through_knobs(request, call_next)
        app.state.sandbox.record(_route_label(request), response.status_code, fault=fault)
        return response

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors()
        )
        return _error(400, "invalid_request", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = str(exc.detail).lower().replace(" ", "_")
        return _error(exc.status_code, code, str(exc.detail))

    return app


def serve(config: SandboxConfig, *, host: str, port: int) -> None:
    """Serve the sandbox until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
