"""`python -m dash_app`: flags, environment variables, logging, signals, clean shutdown."""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import ipaddress
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from pydantic import ValidationError

from config import ConfigError, Settings, load_settings, settings_from_dict
from config.auth import AuthSettings
from config.settings import StorageSettings, postgres_url_problem
from dash_app.logs import json_file_handler
from ops.history.protocol import StoreUnusable

log = logging.getLogger("dash_app")

DEMO_INTERVAL_S = 5.0  # the demo should look alive within seconds, not 40 s
DATA_DIR_ENV = "DASHBOARD_DATA_DIR"
DEMO_DATA_DIR = "data/demo"  # the demo's services are named like Bytebot's: their history must stay apart
EPILOG = f"""\
environment:
  HEALTH_CONFIG_PATH   config file (--config wins)
  {DATA_DIR_ENV:<20} data dir (--data-dir wins)
  HISTORY_FILE_PATH    history file (default <data dir>/health_history.json)
  LOG_FILE_PATH        log file, JSON lines (default <data dir>/dashboard.log)
  DASHBOARD_API_KEY    API key (see README, Security)

--demo keeps everything in {DEMO_DATA_DIR}/ (or the --data-dir / {DATA_DIR_ENV} given) and ignores
HISTORY_FILE_PATH and LOG_FILE_PATH, so the demo fleet, named like Bytebot's services, never
shows up in a real deployment's history or recovery log."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dash_app",
        description="Mission Control: health dashboard",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="config file (env HEALTH_CONFIG_PATH; default config/health_config.json)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9993, help="HTTP port for the dashboard and /api (0 = any free)")
    parser.add_argument("--ws-port", type=int, default=9994, help="WebSocket port (0 = any free)")
    parser.add_argument("--interval", type=float, help="seconds between sweeps (overrides the config)")
    parser.add_argument("--demo", action="store_true", help="start the embedded demo fleet and monitor it")
    parser.add_argument(
        "--data-dir",
        help=f"where history, recovery log, state and log file live (default data/, with --demo {DEMO_DATA_DIR}/)",
    )
    parser.add_argument(
        "--store",
        metavar="postgresql://...",
        help="keep history and recovery log in this PostgreSQL database (overrides the config's storage)",
    )
    parser.add_argument(
        "--store-env",
        metavar="VAR",
        help="the same, with the URL read from environment variable VAR (no password on the command line)",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="allow a non-loopback --host without any auth configured (not advised)"
    )
    args = parser.parse_args(argv)
    for name in ("port", "ws_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f"--{name.replace('_', '-')} must be 0..65535")
    if args.interval is not None and not 0.2 <= args.interval <= 86400:
        parser.error("--interval must be between 0.2 and 86400 seconds")
    problem = None if args.store is None else postgres_url_problem(args.store)
    if problem:
        parser.error(f"--store {problem}")  # never echo the URL: it may hold a password
    if args.store is not None and args.store_env is not None:
        parser.error("--store and --store-env: give one")
    if args.store_env is not None:
        try:
            StorageSettings(url_env=args.store_env)  # the config's own check: set, and a PostgreSQL URL
        except ValidationError as exc:
            parser.error(f"--store-env {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
    return args


def setup_logging(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers.append(json_file_handler(log_path))  # JSON lines, rotated, no traceback storm on a full disk
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per WebSocket request is noise
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def load(args: argparse.Namespace, demo) -> Settings:
    """The settings to run: the config file's, or the demo fleet's; --interval wins."""
    if demo is not None:
        data = {"services": demo.service_configs(), "interval_s": DEMO_INTERVAL_S}
        config = args.config or os.environ.get("HEALTH_CONFIG_PATH")
        if config:  # the demo replaces the services only: auth, thresholds and policy still apply
            # ... but not the deployment's recovery log: the demo's attempts stay in the demo's data dir.
            # Nor its history database (a config's `storage`): --store names one for the demo on purpose.
            demo_owned = {"services": True, "interval_s": True, "recovery": {"log_path"}, "storage": True}
            kept = load_settings(config).model_dump(exclude=demo_owned, exclude_defaults=True)
            data = {**kept, **data}
        settings = settings_from_dict(data, "demo fleet")
    else:
        settings = load_settings(args.config or os.environ.get("HEALTH_CONFIG_PATH") or None)
    if args.interval is not None:
        settings = settings.model_copy(update={"interval_s": args.interval})
    if args.store is not None or args.store_env is not None:
        storage = settings.storage.model_copy(update={"url": args.store, "url_env": args.store_env})
        settings = settings.model_copy(update={"storage": storage})
    key = os.environ.get("DASHBOARD_API_KEY")
    if key:
        auth = settings.auth.model_dump() | {"api_key": key}
        try:
            settings = settings.model_copy(update={"auth": AuthSettings.model_validate(auth)})
        except ValidationError as exc:
            raise ConfigError(f"DASHBOARD_API_KEY: {exc.errors()[0]['msg']}") from None
    return settings


def exposure_problem(host: str, settings: Settings, insecure: bool) -> str | None:
    """Why this bind is refused: a dashboard that restarts services is a remote control."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback or settings.auth.enabled:
        return None
    if insecure:
        log.warning(
            "!!! listening on %s WITHOUT authentication (--insecure): anyone who reaches it can "
            "restart services. Configure auth or DASHBOARD_API_KEY. !!!",
            host,
        )
        return None
    return (
        f"error: refusing to listen on {host} without authentication; configure auth.api_key or "
        "auth.users in the config (or DASHBOARD_API_KEY), or pass --insecure"
    )


def tune_malloc() -> None:
    """Keep RSS flat on glibc. Each sweep builds and drops frames of tens of MB; with glibc's
    defaults they land in per-thread heap arenas and the freed memory is never returned (RSS
    grew ~40 MiB with 7 days of history). A fixed 1 MiB mmap threshold sends big arrays to
    mmap, which gives them back on free, and two arenas stop dozens of threads scattering the rest."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD (setting it also stops glibc raising it)
    except (OSError, AttributeError):
        pass  # not glibc


def data_paths(args: argparse.Namespace, environ) -> tuple[Path, Path, Path]:
    """(data dir, history file, log file). A flag wins over a variable: --data-dir holds history and
    log. The demo keeps to its own dir, and HISTORY_FILE_PATH / LOG_FILE_PATH (which name a real
    deployment's files) do not apply to it."""
    default = DEMO_DATA_DIR if args.demo else "data"
    data_dir = Path(args.data_dir or environ.get(DATA_DIR_ENV) or default)
    env = {} if args.data_dir or args.demo else environ
    history = Path(env.get("HISTORY_FILE_PATH") or data_dir / "health_history.json")
    return data_dir, history, Path(env.get("LOG_FILE_PATH") or data_dir / "dashboard.log")


def main(argv: list[str] | None = None) -> int:
    tune_malloc()
    args = parse_args(argv)
    data_dir, history_path, log_path = data_paths(args, os.environ)
    setup_logging(log_path)
    demo = None
    try:
        if args.demo:
            from ops.demo_fleet import DemoFleet

            demo = DemoFleet(host="127.0.0.1")
            demo.start()
        settings = load(args, demo)
        problem = exposure_problem(args.host, settings, args.insecure)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        # After the config: a bad one gets its one-line error alone on stderr.
        log.info("data dir %s (history %s, log %s)", data_dir, history_path, log_path)
        return run(args, settings, data_dir, history_path, demo)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except StoreUnusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if demo is not None:
            demo.stop()


def run(args, settings: Settings, data_dir: Path, history_path, demo) -> int:
    from dash_app.factory import create_app
    from dash_app.servers import PortInUse

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    app = create_app(settings, data_dir=data_dir, history_path=history_path, start_monitor=False, demo=demo)
    try:
        app.serve(args.host, args.port, args.ws_port)
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        app.stop()
        return 1
    app.core.monitor.start()
    log.info("monitoring %d service(s) every %gs; Ctrl+C stops", len(settings.services), settings.interval_s)
    stop.wait()
    log.info("stopping")
    app.stop()
    return 0
