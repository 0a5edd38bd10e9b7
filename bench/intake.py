"""Intake latency: an email appended to a real Dovecot INBOX → its onboarding flow run created.

The watcher (`hotspot-onboard watch`, a process of its own) idles in IMAP IDLE on a private
Dovecot over TLS, with ONBOARDING_DEPLOYMENT set as in production: intake creates a flow run
of a deployment (on a pool no worker serves, so the runs just wait). Each message is appended
with IMAP APPEND once the watcher is idle again (the previous message filed, and a second
more); the latency is from just before the APPEND to the flow run's `created` time on the
Prefect server (same clock). A message with no flow run after 30 s counts as not taken in.
The watcher's peak RSS is read from /proc at the end.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from bench.common import (
    BENCH_DIR,
    Figure,
    deploy_onboarding,
    median,
    peak_rss_mib,
    seed_companies,
    store_session,
)
from settings import PROJECT_DIR
from stack.prefect import BIN, PrefectServer
from stack.process import Service

MESSAGES = 7
TARGET_S = 2.0
STALLS = {f"Stall {n}": str(300950 + n) for n in range(MESSAGES)}
COMPANY = {
    "name": "Intake Parking Co",
    "contacts": ["ops@intake.example"],
    "locations": [*STALLS],
    "hotspot_operators": ["Bench Parking"],
}


def request_email(location: str, spot_id: str) -> bytes:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Intake Ops <ops@intake.example>"
    message["To"] = "hotspot@offstreet.example"
    message["Subject"] = "HotSpot Integration – SpotID Configuration Request"
    message["Message-ID"] = make_msgid(domain="intake.example")
    message.set_content(f"Hi,\nHere is our SpotID:\n- {location}: {spot_id}\nThanks,\nOps\n")
    return bytes(message)


def _flow_run_ids(url: str) -> list[str]:
    from store import crud

    with store_session(url) as session:
        return [r.flow_run_id for r in crud.list_requests(session) if r.flow_run_id]


def _created(server: PrefectServer, flow_run_id: str) -> float:
    response = httpx.get(f"{server.api_url}/flow_runs/{flow_run_id}", timeout=10)
    response.raise_for_status()
    return datetime.fromisoformat(response.json()["created"]).timestamp()


def _wait_until_filed(dovecot: Any, timeout: float = 15.0) -> None:
    """Until the watcher has moved the message out of the INBOX, and a second more: idle."""
    deadline = time.monotonic() + timeout
    while dovecot.messages("INBOX") and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)


def measure(server: PrefectServer, *, hotspot_url: str, say: Callable[[str], None]) -> list[Figure]:
    subprocess.run(["bash", str(PROJECT_DIR / "tests/servers/install_dovecot.sh")], check=True)
    from tests.servers.dovecot import DovecotServer

    deployment = deploy_onboarding(server, pool="bench-intake")
    directory = BENCH_DIR / "work" / "intake"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("store.db*"):
        old.unlink()
    url = f"sqlite:///{directory / 'store.db'}"
    seed_companies(url, [COMPANY])
    latencies: list[float] = []
    seen: list[float] = []
    details: list[dict[str, Any]] = []
    with DovecotServer() as dovecot:
        env = server.environment(
            IMAP_HOST=dovecot.host,
            IMAP_PORT=str(dovecot.port),
            IMAP_USER=dovecot.user,
            IMAP_PASSWORD=dovecot.password,
            SSL_CERT_FILE=str(dovecot.ca_file),
            OFFSTREET_DATABASE_URL=url,
            OFFSTREET_DATA_DIR=str(directory),
            HOTSPOT_API_URL=hotspot_url,
            ONBOARDING_DEPLOYMENT=deployment,
        )
        command = [str(BIN / "hotspot-onboard"), "watch"]
        log = BENCH_DIR / "logs" / "watcher.log"
        with Service("the watcher", command, env=env, log=log) as watcher:
            dovecot.wait_for_connections(1, timeout=120)
            time.sleep(3)  # the first catch-up is done; the watcher sits in IDLE
            for location, spot_id in STALLS.items():
                known = set(_flow_run_ids(url))
                raw = request_email(location, spot_id)
                sent = time.time()
                dovecot.append(raw)
                deadline = time.monotonic() + 30
                new: list[str] = []
                while not new and time.monotonic() < deadline:
                    time.sleep(0.02)
                    new = [i for i in _flow_run_ids(url) if i not in known]
                found = time.time()
                if not new:
                    details.append({"spot_id": spot_id, "latency_s": None})
                    say(f"intake {spot_id}: no flow run within 30 s")
                    continue
                latency = _created(server, new[0]) - sent
                latencies.append(latency)
                seen.append(found - sent)
                details.append({"spot_id": spot_id, "latency_s": round(latency, 3)})
                say(f"intake {spot_id}: flow run created {latency:.2f} s after the APPEND")
                _wait_until_filed(dovecot)
            rss = peak_rss_mib(watcher.pid)
    lost = len(details) - len(latencies)
    latency = median(latencies)
    return [
        Figure(
            f"intake latency (IMAP APPEND → flow run created, {len(details)} emails)",
            f"{latency:.2f} s (max {max(latencies, default=float('nan')):.2f})"
            + (f"; {lost} not taken in" if lost else ""),
            f"median ≤ {TARGET_S:.0f} s",
            latency <= TARGET_S and not lost,
            {"runs": details, "seen_in_store_s": [round(s, 3) for s in seen]},
        ),
        Figure(
            "peak RSS of the watcher (intake run)",
            f"{rss:.0f} MiB",
            "report",
            None,
            {"mode": "ONBOARDING_DEPLOYMENT set: onboardings run on workers, not in the watcher"},
        ),
    ]
