"""Bodies bounded before they are read, the API key checked before the body, and the headers
that keep answers out of caches and the site on https."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from settings import settings
from tests.web.conftest import STAFF_KEY, Web, link
from tests.web.server import WebServer

STAFF = {"X-API-Key": STAFF_KEY}
MiB = 1024 * 1024


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(settings, "web_max_body_bytes", 4096)
    return 4096


async def chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    """A streamed (chunked) body of `total` bytes, made as it is sent."""
    for _ in range(total // size):
        yield b"x" * size


async def test_an_oversize_api_body_is_refused_with_413(web: Web, small_limit: int) -> None:
    declared = await web.client.post(
        "/api/requests", content=b"x" * (small_limit + 1), headers=STAFF
    )
    streamed = await web.client.post(
        "/api/requests", content=chunks(small_limit * 4), headers=STAFF
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {
            "detail": "The request is too large: at most 4096 bytes are accepted."
        }
        assert response.headers["cache-control"] == "no-store"


async def test_the_key_is_checked_before_the_body_is_read(web: Web, small_limit: int) -> None:
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        async for chunk in chunks(small_limit * 4):
            read += len(chunk)
            yield chunk

    response = await web.client.post("/api/requests", content=counted())
    assert response.status_code == 401
    assert read == 0, "the body was read before the key was checked"
    garbage = await web.client.post("/api/requests", content=b"{not json", headers={})
    assert garbage.status_code == 401, "no key: not even a 422 about the body"


async def test_an_oversize_form_is_refused_with_413(web: Web, small_limit: int) -> None:
    path, csrf = await web.open_form()
    body = {"csrf_token": csrf, "location": "Lot A", "spot_id": "1" * small_limit}
    response = await web.client.post(path, data=body)
    assert response.status_code == 413
    assert "too large" in response.text
    fine = await web.client.post(path, data=body | {"spot_id": "14283", "action": "add_row"})
    assert fine.status_code == 200


async def test_api_answers_are_never_cached(web: Web) -> None:
    for response in (
        await web.client.get("/api/requests/1", headers=STAFF),
        await web.client.get("/api/requests/1"),
    ):
        assert response.headers["cache-control"] == "no-store"


async def test_hsts_only_over_https(web: Web, monkeypatch) -> None:
    assert "strict-transport-security" not in (await web.client.get("/")).headers
    over_https = await web.client.get("https://testserver/")
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
    monkeypatch.setattr(settings, "web_base_url", "https://onboard.offstreet.example")
    behind_a_proxy = await web.client.get(link("Acme Parking"))
    assert behind_a_proxy.headers["strict-transport-security"] == "max-age=31536000"


def stream_post(port: int, path: str, headers: dict[str, str], total: int) -> str:
    """POST a chunked body of `total` bytes over a raw socket; the answer's status line.

    The server may answer before the body is sent and stop reading: sending then ends early.
    """
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    chunk = b"x" * MiB
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/json\r\n{head}\r\n".encode()
        )
        try:
            for _ in range(total // MiB):
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        connection.settimeout(60)
        return connection.recv(4096).split(b"\r\n", 1)[0].decode()


def test_a_200_mib_post_costs_the_server_no_memory(store, hotspot, monkeypatch) -> None:
    monkeypatch.setenv("OFFSTREET_API_KEYS", STAFF_KEY)
    with WebServer(hotspot_url=hotspot.url) as server:
        _, peak_before = server.memory_mib()
        without_key = stream_post(server.port, "/api/requests", {}, 200 * MiB)
        with_key = stream_post(server.port, "/api/requests", STAFF, 200 * MiB)
        _, peak_after = server.memory_mib()

    assert without_key == "HTTP/1.1 401 Unauthorized"
    assert with_key == "HTTP/1.1 413 Request Entity Too Large"
    # Reading either body whole took 600 MiB and more before.
    assert peak_after - peak_before < 32, (peak_before, peak_after)
