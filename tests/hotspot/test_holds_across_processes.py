"""Two real processes sharing a partner key and a data dir against the real sandbox: when
HotSpot announces a Retry-After window to one, neither sends inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hotspot_sandbox import SANDBOX_PARTNER_KEY
from settings import PROJECT_DIR
from stack.sandbox import SandboxProcess

# One embedded process: clients built as the tasks build them (tasks.policy.hotspot_client, so
# the hold file in the data dir), spot reads for `seconds` after the parent says go; one JSON
# line per HotSpot exchange: when it was sent, when answered, the status and Retry-After.
CHILD = """
import asyncio, json, sys, time
import httpx
from tasks.policy import hotspot_client, wired_hotspot

seconds = float(sys.argv[1])
exchanges = []

class Recording(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request):
        sent = time.time()
        response = await super().handle_async_request(request)
        exchanges.append([sent, time.time(), response.status_code,
                          response.headers.get("Retry-After")])
        return response

async def main():
    end = time.time() + seconds
    with wired_hotspot(transport=Recording):
        async with hotspot_client() as hotspot:
            while time.time() < end:
                calls = (hotspot.get_spot("14283") for _ in range(8))
                await asyncio.gather(*calls, return_exceptions=True)

print("ready", flush=True)
sys.stdin.readline()
asyncio.run(main())
print(json.dumps(exchanges), flush=True)
"""


def test_no_process_sends_inside_a_retry_after_window_another_was_given(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sandbox.configure(rate_limit=8)  # both processes start faster than that: 429s come
    env = os.environ | {
        "HOTSPOT_API_URL": sandbox.url,
        "OFFSTREET_DATA_DIR": str(tmp_path),
        "HOTSPOT_RATE_LIMIT": "0",
        "HOTSPOT_BACKOFF_SECONDS": "0.05",
        "HOTSPOT_BACKOFF_MAX_SECONDS": "0.2",
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, "4"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_DIR,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:  # both start together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=60)[0] for child in children]
    finally:
        for child in children:
            child.kill()
    runs = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
    assert all(runs), "both processes sent requests"
    refusals = [(n, answered, float(after)) for n, run in enumerate(runs)
                for _, answered, status, after in run if status == 429]  # fmt: skip
    assert refusals, "the sandbox refused some requests"
    assert sandbox.state()["rate_limited"] == len(refusals)
    # From the moment one process read the 429 (plus a scheduling margin) until its
    # Retry-After has passed, no request of either process reached HotSpot.
    for refused_by, answered, retry_after in refusals:
        inside = [
            (n, sent - answered)
            for n, run in enumerate(runs)
            for sent, *_ in run
            if answered + 0.1 < sent < answered + retry_after - 0.05
        ]
        assert not inside, f"sent inside process {refused_by}'s Retry-After window: {inside}"
    assert SANDBOX_PARTNER_KEY not in (tmp_path / "hotspot-holds.json").read_text()
