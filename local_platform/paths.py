"""Where the local platform keeps what it builds and runs: one git-ignored `.local` folder at
the repository root, derived here once so a module that moves cannot miscount its parents."""

from __future__ import annotations

from pathlib import Path

LOCAL_HOME = Path(__file__).resolve().parent.parent / ".local"
