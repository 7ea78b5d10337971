"""Entry point: `python -m dash_app --help`."""

import sys

from dash_app.cli import main

sys.exit(main())
