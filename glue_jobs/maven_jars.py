"""Copy the jars a pom.xml lists (with their runtime dependencies) into a folder, with mvn.

Local runs only: Glue ships its own jars. Used for Spark's extra jars and, by the local
platform, for the Kafka broker. The copy goes to a fresh folder that replaces the old one only
when complete, so an interrupted run or an older version never leaves mixed jars; a stamp of
the pom's hash skips the copy when nothing changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path


class MavenJarsError(RuntimeError):
    """mvn is missing or could not fetch the jars; the message says which and why."""


def copy_pom_jars(pom: Path, jars_dir: Path, label: str) -> bool:
    """Make jars_dir hold the jars of pom; returns True when it had to fetch them."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    stamp = jars_dir / ".pom.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return False
    mvn = shutil.which("mvn")
    if not mvn:
        raise MavenJarsError("mvn not found: install Maven (e.g. apt-get install maven)")
    staging = jars_dir.with_name(jars_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    print(f"Fetching {label} with mvn ...", file=sys.stderr)
    result = subprocess.run(  # noqa: S603 mvn found on PATH, with the project's pom
        [
            mvn,
            "--batch-mode",
            "--quiet",
            "--file",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise MavenJarsError(f"mvn could not fetch {label} ({pom}):\n{output}")
    (staging / ".pom.sha256").write_text(digest)
    shutil.rmtree(jars_dir, ignore_errors=True)
    staging.rename(jars_dir)
    return True
