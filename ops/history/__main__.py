"""`python -m ops.history import --from FILE --to postgresql://...`: move a history into PostgreSQL."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import psycopg

from config.settings import postgres_url_problem


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.history", description="History store tools")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser(
        "import",
        help="copy a JSON-lines history file into PostgreSQL; a rerun adds nothing twice, also after retention"
        " (rows past the raw retention are skipped when their hour is rolled up already)",
    )
    load.add_argument("--from", dest="source", required=True, help="the history file, e.g. data/health_history.json")
    load.add_argument("--to", dest="url", required=True, help="postgresql://user:password@host:5432/db")
    load.add_argument(
        "--raw-retention-h",
        type=float,
        default=48.0,
        help="the dashboards' storage.raw_retention_h (default 48): older rows whose hour is rolled up are skipped",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from ops.history.postgres_import import import_file

    source = Path(args.source)
    problem = postgres_url_problem(args.url)
    if problem:
        print(f"error: --to {problem}", file=sys.stderr)  # never the URL itself: it may hold a password
        return 2
    if not args.raw_retention_h > 0:
        print("error: --raw-retention-h must be a number of hours > 0", file=sys.stderr)
        return 2
    if not source.is_file():
        print(f"error: {source}: no such file", file=sys.stderr)
        return 2
    try:
        report = import_file(source, args.url, timedelta(hours=args.raw_retention_h))
    except OSError as exc:
        print(f"error: {source}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: the database given by --to: {first}", file=sys.stderr)
        return 1
    if report.read == 0 and report.bad_lines:
        print(f"error: {source}: not a history file ({report.bad_lines} unreadable line(s), no rows)", file=sys.stderr)
        return 1
    print(f"{source}: {report.read} rows read, {report.added} added, {report.skipped} already there", end="")
    print(f", {report.bad_lines} unreadable line(s) skipped" if report.bad_lines else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
