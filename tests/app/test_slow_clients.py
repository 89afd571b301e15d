"""Slow clients against the real server command of the image (issue 20 item 11): connections trickling request
headers are closed after the header timeout, while complete requests are still served."""

import asyncio
import time
from collections.abc import Iterator

import pytest

from app.http_limits import HEADER_TIMEOUT_S
from tests.app.image_server import image_server

SLOW_CLIENTS = 200


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    with image_server() as server:
        yield server.port


async def _trickle_headers(port: int) -> float:
    """Send a request whose headers never end, one header line every half second; seconds until cut off."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await _trickle_on(reader, writer)


async def _trickle_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    started = time.monotonic()
    writer.write(b"GET /health HTTP/1.1\r\nHost: app\r\n")
    try:
        while time.monotonic() - started < HEADER_TIMEOUT_S + 5:
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1024), 0.5) == b"":
                    break  # the server closed the connection
            except TimeoutError:
                pass
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def _complete_request(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
    status = await reader.readline()
    writer.close()
    return status


async def test_trickled_headers_are_cut_off_while_whole_requests_are_served(server_port: int) -> None:
    slow = [asyncio.create_task(_trickle_headers(server_port)) for _ in range(SLOW_CLIENTS)]
    await asyncio.sleep(1)
    assert (await _complete_request(server_port)).startswith(b"HTTP/1.1 200")
    held = await asyncio.gather(*slow)
    print(
        f"{SLOW_CLIENTS} trickling clients held {min(held):.1f}-{max(held):.1f}s (header timeout {HEADER_TIMEOUT_S}s)"
    )
    assert max(held) < HEADER_TIMEOUT_S + 1.5
    assert min(held) > HEADER_TIMEOUT_S - 0.5  # cut by the header timeout, not by something else


async def test_a_silent_connection_is_closed_too(server_port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), HEADER_TIMEOUT_S + 2) == b""
    writer.close()
    assert time.monotonic() - started > HEADER_TIMEOUT_S - 0.5


async def test_trickled_headers_of_the_next_request_on_a_kept_alive_connection_are_cut_off(server_port: int) -> None:
    """The timeout restarts with the first byte of each request: uvicorn cancels its keep-alive timer as soon as
    data arrives, so without it a client could hold the connection with one complete request, then a slow one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server_port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: app\r\n\r\n")
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    held = await _trickle_on(reader, writer)  # the rest of the first response is read (and ignored) meanwhile
    assert HEADER_TIMEOUT_S - 0.5 < held < HEADER_TIMEOUT_S + 1.5
