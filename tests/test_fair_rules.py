"""Every strategy plays by the same rules: one meaning of --timeout, redirects followed alike,
no interim 1xx taken for the answer. The same misbehaving server meets every client."""

from __future__ import annotations

import ssl

import pytest
import requests

from conftest import run_one
from faulty import DRIP, DRIP_GAP, OK_BODY, faulty_server
from fetchviz.core.catalog import STRATEGIES
from fetchviz.core.config import MAX_REDIRECTS, Config

ALL = [s.id for s in STRATEGIES]
REQUESTS_BASED = [s.id for s in STRATEGIES if s.uses_blocking_fetch]
# pyreqwest tells nothing of what happens inside a request (reqwest has no hook): no phases.
NO_PHASES = {"pyreqwest"}


@pytest.mark.parametrize("strategy", ALL)
def test_timeout_is_a_limit_on_silence_for_every_client(strategy):
    """A server that sends a byte every 0.3 s never stays silent for the 1.5 s timeout: every
    client waits for the whole answer (2.4 s), none stops at a deadline of 1.5 s. The margin is
    wide because a busy machine wakes the server late, and libcurl, which checks its speed
    on the loop's timers, late too: with 0.5 s (libcurl: 1 s) curl-cffi gave up once on CI."""
    with faulty_server("drip") as url:
        run = run_one(Config(tasks=1, url=url, timeout=1.5), strategy)
    row = run.tasks[0]
    assert (run.ok, run.failed) == (1, 0), row.error
    assert row.nbytes == len(DRIP)
    assert row.duration is not None and row.duration >= 0.9 * DRIP_GAP * len(DRIP)


@pytest.mark.parametrize("strategy", ALL)
def test_every_client_follows_a_redirect(strategy):
    with faulty_server("redirect") as url:
        run = run_one(Config(tasks=2, url=url, timeout=5), strategy)
    assert (run.ok, run.failed) == (2, 0), [row.error for row in run.tasks]
    assert {(row.status, row.nbytes) for row in run.tasks} == {(200, len(OK_BODY))}
    # Two answers, two hops: which connection and which wait were whose is not told apart,
    # by any client; the phases say so rather than add up the two.
    for row in run.tasks:
        if strategy in NO_PHASES:
            assert row.phases is None
            continue
        assert row.phases is not None and row.phases[1:4] == (None, None, None), row.phases


@pytest.mark.parametrize("strategy", ALL)
def test_a_redirect_loop_fails_every_client_at_the_same_limit(strategy):
    with faulty_server("redirect-loop") as url:
        run = run_one(Config(tasks=1, url=url, timeout=5), strategy)
    assert (run.ok, run.failed) == (0, 1)
    assert run.tasks[0].error == f"too many redirects ({MAX_REDIRECTS})"


def test_the_redirect_limit_is_requests_own():
    """requests.get cannot be given a limit: the shared one must be the one it has."""
    assert requests.sessions.DEFAULT_REDIRECT_LIMIT == MAX_REDIRECTS


@pytest.mark.parametrize("strategy", ALL)
def test_an_interim_1xx_is_never_counted_as_the_answer(strategy):
    """httpx and aiohttp skip a 103 and read the 200 behind it; requests (http.client) cannot,
    and its row fails saying so, instead of counting a 103 with no body as a success."""
    with faulty_server("early-hints") as url:
        run = run_one(Config(tasks=1, url=url, timeout=5), strategy)
    row = run.tasks[0]
    if strategy in REQUESTS_BASED:
        assert (run.ok, run.failed) == (0, 1)
        assert row.status == 103
        assert row.error is not None and row.error.startswith("interim 103 taken for the answer")
    else:
        assert (run.ok, run.failed) == (1, 0), row.error
        assert (row.status, row.nbytes) == (200, len(OK_BODY))


@pytest.mark.parametrize("strategy", ALL)
def test_a_huge_response_header_says_so_in_every_client(strategy):
    with faulty_server("huge-header") as url:
        run = run_one(Config(tasks=1, url=url, timeout=5), strategy)
    if strategy == "pyreqwest":  # hyper reads headers up to ~400 KB: this one is its answer
        assert (run.ok, run.tasks[0].nbytes) == (1, 2)
        return
    assert (run.ok, run.failed) == (0, 1)
    assert run.tasks[0].error == "response header too large"


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory):
    """A CA of this test run's own, and a server context with a certificate it signed."""
    import trustme

    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return server_context, str(pem)


@pytest.mark.parametrize("strategy", ALL)
def test_an_untrusted_certificate_says_why_and_cacert_trusts_it_in_every_client(
    strategy, private_ca
):
    server_context, pem = private_ca
    with faulty_server("tls", tls=server_context) as url:
        untrusted = run_one(Config(tasks=1, url=url, timeout=5), strategy)
        trusted = run_one(Config(tasks=1, url=url, timeout=5, cacert=pem), strategy)
    reason = untrusted.tasks[0].error or ""
    assert reason.startswith("certificate verify failed: unable to get local issuer"), reason
    assert reason.endswith("(try --cacert)")
    assert (trusted.ok, trusted.tasks[0].status, trusted.tasks[0].nbytes) == (1, 200, 2)
