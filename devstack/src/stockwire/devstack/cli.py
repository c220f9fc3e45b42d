"""``python -m stockwire.devstack``: the command line behind ``make up``."""

import argparse
import sys
from pathlib import Path

from stockwire.devstack.console import say
from stockwire.devstack.errors import StackError
from stockwire.devstack.up import UpOptions, up


def parser() -> argparse.ArgumentParser:
    defaults = UpOptions()
    root = argparse.ArgumentParser(prog="python -m stockwire.devstack")
    commands = root.add_subparsers(dest="command", required=True)
    up_cmd = commands.add_parser(
        "up",
        help="run broker, database and every service in the foreground until Ctrl-C",
        description="Service ports come from STOCKWIRE_<SERVICE>_PORT; a broker or database "
        "server already running is used through KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL.",
    )
    up_cmd.add_argument(
        "--state-dir",
        type=Path,
        default=defaults.state_dir,
        help="where logs, the embedded database, the token and the lock live (default %(default)s)",
    )
    up_cmd.add_argument(
        "--broker-port",
        type=int,
        default=defaults.broker_port,
        help="port of the Tansu broker started when KAFKA_BOOTSTRAP_SERVERS is unset "
        "(default %(default)s)",
    )
    up_cmd.add_argument(
        "--database-port",
        type=int,
        default=defaults.database_port,
        help="port of the embedded PostgreSQL started when DATABASE_URL does not answer "
        "(default %(default)s)",
    )
    up_cmd.add_argument(
        "--ready-timeout",
        type=float,
        default=defaults.ready_timeout_s,
        help="seconds each service may take to answer /readyz (default %(default)s)",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = UpOptions(
        state_dir=args.state_dir,
        broker_port=args.broker_port,
        database_port=args.database_port,
        ready_timeout_s=args.ready_timeout,
    )
    try:
        code = up(options)
    except StackError as error:
        say(f"error: {error}", sys.stderr)
        return 1
    say("Stockwire stopped.")
    return code
