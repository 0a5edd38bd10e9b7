"""The web app: the customers' request form and status pages, and the staff JSON API.

`create_app()` builds it; `hotspot-onboard serve` runs it with uvicorn. Customers come in
only through signed links (`/f/{token}`), staff tools only with an API key (`/api`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from flows.launch import Launch, Onboardings
from settings import settings
from store.db import migrate
from trust.links import ExpiredLink, LinkError, RevokedLink
from web import api, customer, proposals_page, token_page
from web.checks import SpotChecker
from web.limits import LimitBody
from web.security import CSRFError
from web.templating import templates

STATIC_DIR = Path(__file__).resolve().parent / "static"
SHUTDOWN_GRACE_SECONDS = 30.0

# No inline script or style, no framing, no referrer: the link's token is in the URL and
# must not travel to any other site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# Browsers keep to https for a year once they have seen the site over https.
HSTS = "max-age=31536000"


def create_app(*, launch: Launch | None = None) -> FastAPI:
    """The app; `launch` starts an onboarding (default: `flows.launch.start_onboarding`)."""
    onboardings = Onboardings(launch) if launch else Onboardings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate()
        yield
        await onboardings.wait(SHUTDOWN_GRACE_SECONDS)

    app = FastAPI(
        title="Offstreet HotSpot onboarding",
        summary="Submit SpotID requests and follow them to a live HotSpot integration.",
        version="1",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.onboardings = onboardings
    app.state.spot_checker = SpotChecker()
    app.include_router(api.router)
    app.include_router(token_page.router)  # before the form's `/f/{token}` routes
    app.include_router(proposals_page.router)
    app.include_router(customer.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(LimitBody)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path != "/api/docs":  # Swagger UI loads its own scripts
            response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith(("/f/", "/api/")):  # links, requests, outcomes
            response.headers["Cache-Control"] = "no-store"
        if request.url.scheme == "https" or settings.form_base_url.startswith("https://"):
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.exception_handler(LinkError)
    async def link_refused(request: Request, exc: LinkError) -> Response:
        hint = (
            "Ask your Offstreet contact for a new link."
            if isinstance(exc, ExpiredLink | RevokedLink)
            else "Open the link exactly as Offstreet sent it, or ask for a new one."
        )
        return page(request, 403, "This link cannot be used", str(exc), hint)

    @app.exception_handler(CSRFError)
    async def csrf_refused(request: Request, exc: CSRFError) -> Response:
        return page(request, 403, "The form could not be accepted", str(exc), "")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return await http_exception_handler(request, exc)
        title = "Page not found" if exc.status_code == 404 else "Something is not right"
        return page(request, exc.status_code, title, str(exc.detail), "")

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        return page(
            request,
            200,
            "HotSpot onboarding",
            "Offstreet customers reach their company's form through the link Offstreet sent.",
            "No link, or it expired? Ask your Offstreet contact for one.",
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def page(request: Request, status_code: int, title: str, message: str, hint: str) -> Response:
    """A plain page with one message, for refusals and errors on the customer's side."""
    context = {"title": title, "message": message, "hint": hint}
    return templates.TemplateResponse(request, "message.html", context, status_code=status_code)
