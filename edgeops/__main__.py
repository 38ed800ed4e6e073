"""``python -m edgeops``."""

import sys

from edgeops.cli import run

sys.exit(run())
