"""The demo's secrets and people, as the tests and the screenshot script meet them."""

from __future__ import annotations

from settings import PROJECT_DIR

# Acme Parking's HotSpot company token (the sandbox's Northgate Parking accepts it).
ACME_TOKEN = (PROJECT_DIR / "demo/acme-hotspot-token.txt").read_text().strip()
# Where ops notices go in the tests (OPS_NOTIFY_EMAIL).
OPS = "ops@offstreet.example"
