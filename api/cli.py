"""The ``rag`` command's entry point and the program's composition root: it wires the library's
commands (:mod:`rag.commands`, :mod:`rag.evaluation.cli`) and ``rag serve`` (the web app of this
package) into one parser. The library itself never imports the web layer.

    python -m api.cli COMMAND ...      # what the installed ``rag`` script runs
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence

from rag import __version__
from rag.cli_support import CliError, path_argument, port_number, settings_from_args

log = logging.getLogger("rag.cli")

__all__ = ["build_parser", "check_listen_address", "cmd_serve", "main"]


def check_listen_address(host: str, port: int) -> None:
    """Refuse, before any model loads, an address the server could not listen on.

    Binds a socket the way uvicorn does (IPv6 when the host holds a colon, ``SO_REUSEADDR``) and
    closes it again, so that a mistyped host or a busy port is a one-line error, not a log record
    after the models have loaded.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as error:
            raise CliError(f"cannot listen on host {host!r}: {error.strerror} (--host or RAG_HOST)") from None
        except OSError as error:
            reasons = {
                errno.EADDRINUSE: f"port {port} is already in use (choose another with --port or RAG_PORT)",
                errno.EADDRNOTAVAIL: f"{host} is not an address of this machine (--host or RAG_HOST)",
                errno.EACCES: f"permission denied for port {port} (ports below 1024 need privileges)",
            }
            reason = reasons.get(error.errno or 0, error.strerror or str(error))
            raise CliError(f"cannot listen on {host}:{port}: {reason}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app
    from rag.pipeline import build_pipeline

    settings = settings_from_args(args)
    host = args.host or settings.host
    port = args.port or settings.port
    check_listen_address(host, port)
    # Open the index before the server starts, so a damaged one is refused with its message and exit code 2.
    pipeline = build_pipeline(settings)
    pipeline.warm_up()
    uvicorn.run(create_app(settings, pipeline=pipeline), host=host, port=port, log_config=None, access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from rag.commands import add_commands, add_config_command

    parser = argparse.ArgumentParser(prog="rag", description="Extractive, cited question answering over news articles.")
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_commands(sub)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=port_number)
    serve.add_argument("--index-dir", type=path_argument)
    serve.set_defaults(handler=cmd_serve)

    add_config_command(sub)
    try:
        from rag.evaluation.cli import add_eval_parser
    except ImportError:
        pass
    else:
        add_eval_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from rag.config import SettingsError, load_settings, unknown_variables
    from rag.embedding import EmbedderError
    from rag.ingest import IngestError
    from rag.logs import configure_logging
    from rag.ranker import RankerError
    from rag.reranker import RerankerError
    from rag.store import IndexStoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        # Commands other than serve only speak up for warnings, unless asked for more.
        level = settings.log_level if args.command == "serve" or settings.log_level == "DEBUG" else "WARNING"
        configure_logging(level, settings.log_format)
        for problem in unknown_variables(os.environ):
            log.warning("%s (ignored)", problem)
        return int(args.handler(args))
    except (CliError, SettingsError, IngestError, IndexStoreError, EmbedderError, RankerError, RerankerError) as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
