"""`fetchviz serve`: the latency server alone, until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import sys

from fetchviz.cli.args import Parser, add_address, fraction, whole
from fetchviz.core.config import DEFAULT_DELAY_MS
from fetchviz.runs import tuning
from fetchviz.runs.certs import SessionCerts
from fetchviz.runs.server import MAX_DELAY_MS, bind, listen_error, make_app, reach_warning, serve


def parser() -> Parser:
    parser = Parser(prog="fetchviz serve", description="Run the latency server alone.")
    add_address(parser)
    parser.add_argument(
        "--delay",
        type=whole(0, MAX_DELAY_MS),
        default=DEFAULT_DELAY_MS,
        metavar="MS",
        help="latency of GET / (default 500)",
    )
    parser.add_argument(
        "--jitter",
        type=whole(0, MAX_DELAY_MS),
        default=0,
        metavar="MS",
        help="extra random latency, 0..MS (default 0)",
    )
    parser.add_argument(
        "--fail-rate",
        type=fraction,
        default=0.0,
        metavar="F",
        help="answer HTTP 500 to this fraction of requests, 0 to 1 (default 0)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="HTTPS, with a certificate from a CA made for this session (its file is printed)",
    )
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    return parser().parse_args(argv)


def run(args: argparse.Namespace) -> int:
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(listen_error("fetchviz serve", args.host, args.port, exc), file=sys.stderr)
        return 2  # the address or port given: a bad command line
    if warning := reach_warning("fetchviz serve", args.host):
        print(warning, file=sys.stderr)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    certs = SessionCerts.make() if args.tls else None
    scheme = "https" if certs else "http"
    print(
        f"fetchviz serve: {scheme}://{shown}:{port}/ answers after {args.delay} ms, "
        f"/delay/{{ms}} after {{ms}} (Ctrl+C stops)",
        flush=True,
    )
    if certs:
        print(f"fetchviz serve: its CA, for --cacert: {certs.ca}", flush=True)
    try:  # uvicorn raises the SIGTERM it caught again once stopped: it unwinds through here
        tls = (certs.cert, certs.key) if certs else None
        with tuning.terminate_as_exit():
            serve(sock, make_app(args.delay, args.jitter, args.fail_rate), tls)
    finally:
        if certs:
            certs.remove()
    return 0
