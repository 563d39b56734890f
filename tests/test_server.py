"""The embedded latency server: answers after the delay asked for, and leaves nothing behind."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import subprocess
import sys
import textwrap
import time

import aiohttp
import requests

from fetchviz.runs.server import KEEP_ALIVE_S, EmbeddedServer, is_loopback


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: it only waits for its parent to read its exit code
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:  # ProcessLookupError, FileNotFoundError
        # reaped between the two looks (a reaper thread does it at once): gone. This race,
        # not the runner, failed test_cancel_kills_the_runs_process… now and then under load.
        return False


def test_delay_endpoint_waits_as_asked(server):
    started = time.perf_counter()
    response = requests.get(f"{server.base_url}/delay/120", timeout=5)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.12


def test_a_path_under_the_delay_waits_as_the_delay(server):
    """A program given $FETCHVIZ_URL adds its own path to it: /delay/120/page/3 is /delay/120."""
    for tail in ("/", "/page/3", "/api/items?id=4"):
        started = time.perf_counter()
        response = requests.get(f"{server.base_url}/delay/120{tail}", timeout=5)
        assert response.status_code == 200, tail
        assert time.perf_counter() - started >= 0.12


def test_serves_nothing_but_the_latency_endpoints(server):
    assert requests.get(f"{server.base_url}/etc/passwd", timeout=5).status_code == 404
    assert requests.get(f"{server.base_url}/delay/x/1", timeout=5).status_code == 404
    assert requests.post(f"{server.base_url}/delay/0", timeout=5).status_code == 405
    too_long = requests.get(f"{server.base_url}/delay/600001", timeout=5)
    assert too_long.status_code == 404 and too_long.text == "the most is GET /delay/600000\n"


def test_fail_rate_answers_http_500():
    with EmbeddedServer(delay_ms=0, fail_rate=1.0) as failing:
        failing.wait_ready()
        assert requests.get(failing.url(), timeout=5).status_code == 500


def test_stop_leaves_no_process():
    embedded = EmbeddedServer(delay_ms=0)
    embedded.start()
    embedded.wait_ready()
    pid = embedded.pid
    embedded.stop()
    assert pid is not None and not alive(pid)


def test_server_dies_with_its_parent_even_on_sigkill():
    script = textwrap.dedent(
        """
        from fetchviz.runs.server import EmbeddedServer
        s = EmbeddedServer(delay_ms=0); s.start(); s.wait_ready()
        print(s.pid, flush=True)
        import time; time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid)


def test_a_thousand_concurrent_requests_are_all_answered(server):
    async def fetch_all() -> list[int]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get() -> int:
                async with session.get(f"{server.base_url}/delay/100") as response:
                    await response.read()
                    return response.status

            return await asyncio.gather(*(get() for _ in range(1000)))

    started = time.perf_counter()
    statuses = asyncio.run(fetch_all())
    assert statuses == [200] * 1000
    assert time.perf_counter() - started < 30  # generous: about a second here


def test_only_loopback_counts_as_private():
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "example.com", ""]))


def test_serve_prints_its_url_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", "serve", "--delay", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.split()[2]
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url, timeout=5).json() == {"ms": 20}
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_idle_keep_alive_outlasts_every_clients_own_expiry():
    """A client reuses a pooled connection up to its own expiry: the server must keep it open
    longer, or the two race and a request fails (httpx's 5 s against uvicorn's default 5 s)."""
    import httpx

    aiohttp_expiry = 15.0  # aiohttp.TCPConnector's documented default keepalive_timeout
    assert (httpx.Limits().keepalive_expiry or 0) < KEEP_ALIVE_S
    assert aiohttp_expiry < KEEP_ALIVE_S
    assert KEEP_ALIVE_S >= 3600  # the longest --timeout: no run outlives it


def test_a_connection_idle_longer_than_the_old_expiry_is_still_served(server):
    """The condition itself: answer, sit idle past 5 s, ask again on the same connection.
    Before the fix the server had closed it at 5 s: the second request failed."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/delay/0")
        assert conn.getresponse().read() == b'{"ms": 0}'
        sock = conn.sock
        time.sleep(6.0)  # idle past uvicorn's default keep-alive and httpx's expiry
        conn.request("GET", "/delay/0")
        assert conn.sock is sock  # the same connection, reused
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b'{"ms": 0}')
    finally:
        conn.close()
