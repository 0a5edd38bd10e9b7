"""The HotSpot sandbox: a local HotSpot that serves the partner API and fails on purpose.

A program of its own (`python -m hotspot_sandbox`, or `hotspot-onboard sandbox`), used by the
demo, `make up`, the benchmarks and the tests. It shares only the client's models with the
pipeline (`hotspot.models`); importing this package loads no FastAPI (`server` does).

- `config`: where it listens, its catalogue and the partner key it accepts (environment).
- `command`: its command line; `server`: the FastAPI app; `state`, `permits`, `catalogue`:
  what it remembers.
"""

SANDBOX_PARTNER_KEY = "sandbox-partner-key"  # the key it accepts unless HOTSPOT_PARTNER_KEY says
