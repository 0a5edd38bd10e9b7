"""The sandbox's command line (`python -m hotspot_sandbox`, also `hotspot-onboard sandbox`):
serve the HotSpot sandbox locally until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from pydantic import SecretStr

from hotspot_sandbox.config import SandboxSettings

configured = SandboxSettings()
LIMITERS = ("sliding", "fixed", "token")  # the `rate_limiter` knob's values


def parse_range(text: str, *, option: str) -> tuple[float, float]:
    """Seconds as `2` (fixed) or `1-5` (uniformly random in the range), for delay and latency."""
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise typer.BadParameter(
            f"expected seconds like 2 or 1-5, got {text!r}", param_hint=option
        ) from None
    if bounds[0] < 0 or bounds[0] > bounds[1]:
        raise typer.BadParameter(f"expected 0 <= low <= high, got {text!r}", param_hint=option)
    return bounds


def sandbox(
    *,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = configured.host,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = configured.port,
    catalogue: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Spot catalogue (JSON).")
    ] = configured.catalogue,
    partner_key: Annotated[
        str | None,
        typer.Option(
            help="Partner key to accept (default: HOTSPOT_PARTNER_KEY).", show_default=False
        ),
    ] = None,
    delay: Annotated[
        str, typer.Option(help="Propagation delay in seconds: 2, or a random range 1-5.")
    ] = "0",
    rate_limit: Annotated[
        float, typer.Option(min=0.0, help="Requests per second per partner key; 0 is off.")
    ] = 0.0,
    rate_limiter: Annotated[
        str, typer.Option(help="How the limit counts: sliding, fixed (windows) or token (bucket).")
    ] = "sliding",
    rate_headers: Annotated[
        bool, typer.Option(help="Announce the limit in RateLimit-* headers.")
    ] = False,
    error_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of transient 502/503 answers.")
    ] = 0.0,
    lost_response_rate: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of answers lost after the work is done (504)."),
    ] = 0.0,
    latency: Annotated[
        str, typer.Option(help="Seconds added before answering: 0.1, or a range 0-0.5.")
    ] = "0",
) -> None:
    """Run a local HotSpot that fails on purpose, for the demo, benchmarks and tests."""
    from hotspot_sandbox.server import SandboxConfig, serve  # FastAPI: only this command needs it

    if rate_limiter not in LIMITERS:
        raise typer.BadParameter(
            f"expected one of {', '.join(LIMITERS)}, got {rate_limiter!r}",
            param_hint="--rate-limiter",
        )
    delay_min, delay_max = parse_range(delay, option="--delay")
    latency_min, latency_max = parse_range(latency, option="--latency")
    key = SecretStr(partner_key) if partner_key else configured.partner_key
    config = SandboxConfig(
        catalogue=catalogue,
        partner_key=key,
        delay_min=delay_min,
        delay_max=delay_max,
        rate_limit=rate_limit,
        rate_limiter=cast(Literal["sliding", "fixed", "token"], rate_limiter),
        rate_headers=rate_headers,
        error_rate=error_rate,
        lost_response_rate=lost_response_rate,
        latency_min=latency_min,
        latency_max=latency_max,
    )
    limit = f"{rate_limit:g}/s {rate_limiter}" if rate_limit else "off"
    typer.echo(
        f"HotSpot sandbox on http://{host}:{port} (delay {delay}s, rate limit {limit}, "
        f"error rate {error_rate:g}, lost responses {lost_response_rate:g}, "
        f"latency {latency}s); Ctrl-C stops it"
    )
    serve(config, host=host, port=port)
