"""Generate the synthetic store: `python scripts/generate_data.py --users 1000 --days 30
[--seed N] [--database-url URL] [--events-out PATH] [--reset]`.

A thin wrapper over `ecom generate`, kept because it is the documented entry point.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_platform.cli import app

if __name__ == "__main__":
    app(["generate", *sys.argv[1:]], prog_name="generate_data.py")
