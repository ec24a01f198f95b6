"""``symbolic-bp serve [--port 8765] [--host 127.0.0.1] [--budget S]``: the web
page and its JSON API (:mod:`.serve`) on this computer, served by uvicorn.

Exit status: 0 when stopped (Ctrl-C); 2 when the address cannot be bound (the
port is in use, the host is not an address of this computer).

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_serve(p)
>>> vars(p.parse_args([]))
{'port': 8765, 'host': '127.0.0.1', 'budget': 60.0}
>>> url("127.0.0.1", 8765), url("::1", 80)
('http://127.0.0.1:8765/', 'http://[::1]:80/')
"""
from __future__ import annotations

import argparse
import socket
import sys

from .options import budget_seconds

WILDCARDS = ("0.0.0.0", "::", "")      # hosts that listen on every address: any Host header is served


def port_number(text: str) -> int:
    """A TCP port, 0 (any free one) .. 65535.

    >>> port_number("80")
    80
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text}")
    return value


def add_serve(p: argparse.ArgumentParser) -> None:
    """The arguments of ``serve``."""
    from .serve import MAX_SECONDS
    p.add_argument("--port", type=port_number, default=8765, help="the port (default 8765; 0: any free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--budget", type=budget_seconds, default=MAX_SECONDS, metavar="SECONDS",
                   help=f"the most one check may take (default and cap {MAX_SECONDS:g})")


def url(host: str, port: int) -> str:
    """The address a browser opens."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); OSError when that is not possible."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # not SO_REUSEPORT: a second server fails
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    """Bind the address, print the URL, serve until Ctrl-C."""
    import uvicorn

    from .serve import HOSTS, create_app, warm_up
    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        reason = "the port is in use" if e.errno == 98 else (e.strerror or str(e))
        print(f"symbolic-bp: error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    except (OverflowError, UnicodeError) as e:
        print(f"symbolic-bp: error: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    host, port = sock.getsockname()[:2]
    # Host headers answered: this computer's names and the host given (an IPv6 address or a
    # wildcard: any, as Starlette's check cannot read "[::1]:8765")
    hosts = None if args.host in WILDCARDS or ":" in args.host else HOSTS + (args.host,)
    app = create_app(budget=args.budget, hosts=hosts)
    warm_up()
    print(f"symbolic-bp: serving on {url(host, port)} (Ctrl-C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


# what commands.COMMANDS names: (add_arguments, run)
COMMAND = (add_serve, cmd_serve)
