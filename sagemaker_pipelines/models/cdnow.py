"""The CDNOW data set (Fader, Hardie and Lee 2005), the reference the BTYD models are checked on.

Its two files ship inside the lifetimes wheel, a test-only dependency, so only tests and
benchmarks call this. They are located with importlib.resources because lifetimes.datasets
imports pkg_resources, which new setuptools no longer has.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import pandas as pd

from sagemaker_pipelines.models.transactions import AMOUNT, CUSTOMER, DATE

CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"
UNIT_DAYS = 7.0
"""The papers count time in weeks."""
DATE_FORMAT = "%Y%m%d"


def read_cdnow(size: Literal["sample", "master"]) -> pd.DataFrame:
    """The raw transaction log as columns customer_id, date (YYYYMMDD) and amount.

    The sample (1/10th of the cohort, 2,357 customers, 6,919 rows) has no header and two id
    columns, the master's one; ids in the sample are its own (1 to 2,357), as in the papers.
    """
    folder = resources.files("lifetimes") / "datasets"
    if size == "sample":
        names = ["master_id", CUSTOMER, DATE, "units", AMOUNT]
        with (folder / "CDNOW_sample.txt").open() as file:
            log = pd.read_csv(file, sep=r"\s+", header=None, names=names)
    else:
        with (folder / "CDNOW_master.txt").open() as file:
            log = pd.read_csv(file, sep=r"\s+")
        log = log.rename(columns={"dollar_value": AMOUNT})
    return log[[CUSTOMER, DATE, AMOUNT]]
