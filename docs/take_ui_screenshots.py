"""Real screenshots of the Prefect UI for the README's ops guide.

Run by hand, from the project directory, after `make install`:

    .venv/bin/python -m docs.take_ui_screenshots

It needs Debian's Chromium (/usr/bin/chromium) and touches nothing of yours (.data, ~/.prefect,
a running `make up`): everything it starts runs on free ports with its state in a temporary
directory, and is stopped at the end (each process with what it started) before that directory is
removed. What
it starts: a Prefect server with its UI (SQLite under a throwaway PREFECT_HOME, analytics off),
the HotSpot sandbox, a fresh SQLite store seeded with demo/companies.json, the deployments of
prefect.yaml and one process worker. It takes about a minute; on failure it prints the tails
of the server's and the worker's logs and saves the page as it was.

Then, as ops would see it:

1. request A (Acme Parking: Lot A 14283, Garage C 16001) runs to live on the worker;
   `prefect-run-artifacts.png` is its flow run page on the Artifacts tab (the SpotID table,
   the polling progress and the summary), `prefect-run-summary.png` the summary artifact;
2. request B (Lot D 17777, Lot B 15320) suspends: Lot B's operator needs Acme's HotSpot token;
   `prefect-token-form.png` is its flow run page with the Resume form open (left empty);
3. the run is resumed through the API with demo/acme-hotspot-token.txt and must end live.

The PNGs are written to docs/screenshots/, replacing older ones: 1400 x 900, except the
artifacts page, made as tall as its content; each must stay under 400 KB.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from uuid import UUID

from playwright.async_api import Page, ViewportSize, expect

DOCS = Path(__file__).resolve().parent
PROJECT = DOCS.parent
SCREENSHOTS = DOCS / "screenshots"
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
MAX_HEIGHT = 2400
MAX_BYTES = 400_000
# How much of the page's content is hidden below its scrolling container.
HIDDEN_BELOW = """Math.max(0, ...[...document.querySelectorAll('*')]
    .filter(e => e.scrollHeight > e.clientHeight + 1
        && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    .map(e => e.scrollHeight - e.clientHeight))"""
UI_TIMEOUT_MS = 60_000
RUN_TIMEOUT_S = 300
RATE = 10.0
COMPANY = "Acme Parking"
REQUEST_A = {"Lot A": "14283", "Garage C": "16001"}
REQUEST_B = {"Lot D": "17777", "Lot B": "15320"}


def isolate(tmp: Path) -> None:
    """Point this process (and so every process it starts) at throwaway state.

    Called before any project or Prefect module is imported: both read their settings from
    the environment at import time.
    """
    os.environ.update(
        {
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "OFFSTREET_DATA_DIR": str(tmp / "data"),
            "OFFSTREET_DATABASE_URL": f"sqlite:///{tmp / 'data' / 'store.db'}",
            "ONBOARDING_DEPLOYMENT": "onboard-request/onboard-request",
            # Quick enough to wait for: the token question comes after 5 s of polling.
            "VERIFY_TIMEOUT_SECONDS": "5",
            "VERIFY_FIRST_POLL_SECONDS": "0.5",
            "HOTSPOT_TASK_RETRY_DELAYS": "[0.5, 1]",
            "HOTSPOT_BACKOFF_SECONDS": "0.1",
        }
    )
    for name in ("IMAP_HOST", "SMTP_HOST", "PREFECT_API_URL"):  # no mail, nobody else's server
        os.environ.pop(name, None)
    (tmp / "data").mkdir()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ui-screenshots-") as name:
        tmp = Path(name)
        isolate(tmp)
        try:
            asyncio.run(take_screenshots(tmp))
        except BaseException:
            for log in sorted((tmp / "logs").glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-40:]
                print(f"--- {log.name} (last lines) ---", *tail, sep="\n", file=sys.stderr)
            raise
    for png in sorted(SCREENSHOTS.glob("prefect-*.png")):
        print(f"{png.relative_to(PROJECT)}  {png.stat().st_size // 1000} KB")
    return 0


@contextmanager
def stack(tmp: Path) -> Iterator[str]:
    """Sandbox, seeded store, Prefect server with the deployments and one worker; the UI's
    address. Stopped newest first. Only the worker calls HotSpot: it is given the sandbox's URL."""
    from stack.sandbox import SandboxProcess
    from store import crud
    from store.db import migrate, session_scope
    from store.schemas import SeedFile
    from testing.stack import deployed_stack

    logs = tmp / "logs"
    with ExitStack() as exits:
        sandbox = exits.enter_context(SandboxProcess())
        migrate()
        seed = SeedFile.model_validate_json((PROJECT / "demo/companies.json").read_bytes())
        with session_scope() as session:
            crud.seed_companies(session, companies=seed.companies)
        print("Prefect server starting …")
        deployed = exits.enter_context(
            deployed_stack(
                home=tmp / "prefect", logs=logs, hotspot_url=sandbox.url, rate=RATE, ui=True
            )
        )
        deployed.add_worker("screenshots")
        yield deployed.server.ui_url
        print("Stopping the worker, the server and the sandbox …")


async def artifact_id(key: str) -> UUID:
    """The newest version of the artifact with this key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    if not found:
        raise RuntimeError(f"no artifact {key!r}")
    return found[0].id


async def shoot(page: Page, name: str, *, whole: bool = False) -> None:
    """Save the viewport; `whole`: first make the viewport as tall as the page's content.

    The UI scrolls inside its own container, so Playwright's full_page would not help.
    """
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(500)  # transitions and lazy charts settle
    height = VIEWPORT["height"]
    for _ in range(5 if whole else 0):  # grow until nothing scrolls any more
        hidden = await page.evaluate(HIDDEN_BELOW)
        if hidden <= 0 or height >= MAX_HEIGHT:
            break
        height = min(height + hidden + 40, MAX_HEIGHT)
        await page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        await page.wait_for_timeout(500)
    path = SCREENSHOTS / name
    await page.screenshot(path=str(path))
    await page.set_viewport_size(VIEWPORT)
    size = path.stat().st_size
    if size >= MAX_BYTES:
        raise RuntimeError(f"{name} is {size} bytes; keep screenshots under {MAX_BYTES}")
    print(f"saved {path.relative_to(PROJECT)}")


async def open_run(page: Page, ui: str, run_id: UUID, run_name: str, tab: str = "") -> None:
    """The flow run page, rendered: the SPA has fetched the run and shows its name."""
    query = f"?tab={tab}" if tab else ""
    await page.goto(f"{ui}/runs/flow-run/{run_id}{query}")
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_text(run_name).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    if tab:  # the query selects the tab in some UI versions only; a click always does
        await page.get_by_role("tablist").get_by_text(tab, exact=True).click()


async def take_screenshots(tmp: Path) -> None:
    from prefect.flow_runs import aresume_flow_run

    from testing.browser import chromium
    from testing.onboarding import launch, submit, wait_for_state

    token = (PROJECT / "demo/acme-hotspot-token.txt").read_text().strip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with stack(tmp) as ui:
        async with chromium() as browser:
            page = await browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(UI_TIMEOUT_MS)
            try:
                # 1. Request A runs to live: its artifacts, and the summary.
                request_a = submit(REQUEST_A)
                run_a = await launch(request_a)
                print(f"request {request_a}: flow run {run_a}")
                await wait_for_state(run_a, "Completed")
                name_a = f"{COMPANY} · request {request_a}"
                await open_run(page, ui, run_a, name_a, tab="Artifacts")
                await expect(page.get_by_text(f"request-{request_a}-spotids").first).to_be_visible()
                await expect(page.get_by_text(f"request-{request_a}-summary").first).to_be_visible()
                await shoot(page, "prefect-run-artifacts.png", whole=True)

                summary = await artifact_id(f"request-{request_a}-summary")
                await page.goto(f"{ui}/artifacts/artifact/{summary}")
                await expect(page.get_by_text("Nothing: the integration is live.")).to_be_visible()
                await shoot(page, "prefect-run-summary.png")

                # 2. Request B waits for Acme's token: the Resume form.
                request_b = submit(REQUEST_B)
                run_b = await launch(request_b)
                print(f"request {request_b}: flow run {run_b}")
                await wait_for_state(run_b, "Suspended")
                await open_run(page, ui, run_b, f"{COMPANY} · request {request_b}")
                await page.get_by_role("button", name="Resume").first.click()
                await expect(
                    page.get_by_text(f"{COMPANY}'s HotSpot company token is needed")
                ).to_be_visible()
                await shoot(page, "prefect-token-form.png")
            except BaseException:
                failure = Path(tempfile.gettempdir()) / "prefect-ui-failure.png"
                await page.screenshot(path=str(failure))
                print(f"the page when it failed: {failure}", file=sys.stderr)
                raise

        # 3. Ops answer through the API; the run must go live.
        await aresume_flow_run(run_b, run_input={"token": token})
        await wait_for_state(run_b, "Completed")
        print(f"request {request_b}: resumed with the token, live")


if __name__ == "__main__":
    sys.exit(main())
