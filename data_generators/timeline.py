"""Calendar shapes of shop traffic and fast UTC timestamp formatting.

Times are integer milliseconds since the Unix epoch throughout the generator: cheap to draw,
compare and sort, and formatted once into the RFC 3339 strings events and COPY rows use.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
_EPOCH = date(1970, 1, 1)

# Visits by day of week (Monday first), mean 1: a weekend lift, a Friday dip.
_WEEKDAY_RAW = np.array([0.96, 0.93, 0.93, 0.95, 0.88, 1.10, 1.25])
WEEKDAY_VISIT_FACTORS = _WEEKDAY_RAW / _WEEKDAY_RAW.mean()

# Share of sessions starting in each UTC hour: a night trough, a lunch bump, an evening peak.
_HOURLY_RAW = np.array(
    [0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.7, 1.4, 2.4, 3.2, 3.8, 4.3,
     5.0, 4.9, 4.4, 4.2, 4.3, 4.9, 5.9, 6.9, 7.4, 6.8, 4.9, 2.4]
)  # fmt: skip
HOURLY_SHARES = _HOURLY_RAW / _HOURLY_RAW.sum()


def epoch_ms(day: date) -> int:
    """Midnight UTC of `day` in epoch milliseconds."""
    return (day - _EPOCH).days * MS_PER_DAY


def weekday_of(day_ms: int) -> int:
    """Monday = 0 for the day containing `day_ms` (1970-01-01 was a Thursday)."""
    return (day_ms // MS_PER_DAY + 3) % 7


@lru_cache(maxsize=8192)
def _day_prefix(epoch_day: int) -> str:
    return (_EPOCH + timedelta(days=epoch_day)).isoformat() + "T"


@lru_cache(maxsize=1)
def _clock_faces() -> tuple[list[str], list[str]]:
    """Every "HH:MM:SS" of a day and every ".mmmZ": formatting becomes two lookups."""
    seconds = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
    millis = [f".{m:03d}Z" for m in range(1000)]
    return seconds, millis


def iso_utc(ms: int) -> str:
    """RFC 3339 UTC with milliseconds and a Z suffix, e.g. 2026-10-01T12:34:56.123Z."""
    epoch_day, within = divmod(ms, MS_PER_DAY)
    second, milli = divmod(within, 1000)
    seconds, millis = _clock_faces()
    return _day_prefix(epoch_day) + seconds[second] + millis[milli]


@lru_cache(maxsize=1024)
def _week_tag(epoch_day: int) -> str:
    year, week, _ = (_EPOCH + timedelta(days=epoch_day)).isocalendar()
    return f"{year}_w{week:02d}"


def week_tag(ms: int) -> str:
    """ISO year and week of a time, e.g. 2026_w39 (names weekly email campaigns)."""
    return _week_tag(ms // MS_PER_DAY)


def times_of_day(rng: np.random.Generator, count: int) -> np.ndarray:
    """Millisecond offsets into a day following the diurnal profile."""
    hours = rng.choice(24, size=count, p=HOURLY_SHARES)
    return hours.astype(np.int64) * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=count)
