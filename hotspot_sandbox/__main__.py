"""`python -m hotspot_sandbox`: serve the HotSpot sandbox until Ctrl-C."""

import typer

from hotspot_sandbox.command import sandbox

typer.run(sandbox)
