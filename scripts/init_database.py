"""Apply pending OLTP migrations: `python scripts/init_database.py [--database-url URL]`.

A thin wrapper over `ecom db migrate` (run it with the project's virtualenv active).
"""

import sys

from local_platform.cli import app

if __name__ == "__main__":
    app(["db", "migrate", *sys.argv[1:]], prog_name="init_database.py")
