"""Small column helpers every mart uses, so each rule is written once."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as sf

# Amounts in the marts: exact decimals with cents, wide enough for sums of numeric(12,2).
MONEY = "decimal(18,2)"


def ratio(numerator: str | Column, denominator: str | Column) -> Column:
    """numerator / denominator as a double; null (not infinity) when the denominator is 0."""
    top = sf.col(numerator) if isinstance(numerator, str) else numerator
    bottom = sf.col(denominator) if isinstance(denominator, str) else denominator
    return sf.when(bottom > 0, top.cast("double") / bottom)
