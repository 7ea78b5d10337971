"""Entry point: `python -m dash_app --help`."""

import logging
import os
import sys

from dash_app.cli import main

code = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
# Everything is stopped and flushed by now. A probe thread stuck in a server that drips bytes
# (no per-read timeout fires) must not keep the process alive, so skip the interpreter's joins.
os._exit(code)
