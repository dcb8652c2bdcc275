"""Produce live events: `python scripts/simulate_events.py --rate 10 [--duration S] [--users N]
[--bootstrap-servers HOST:PORT] [--topic T] [--seed N]`.

A thin wrapper over `ecom simulate`, kept because it is the documented entry point.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_platform.cli import app

if __name__ == "__main__":
    app(["simulate", *sys.argv[1:]], prog_name="simulate_events.py")
