"""Where the pipelines read from and write to in the lake, by default: the contract's folders
under the zone buckets' placeholders."""

from __future__ import annotations

from contracts.lake import CUSTOMER_SCORES, RAW_OLTP
from contracts.marts import marts
from sagemaker_pipelines.definitions import placeholders

CUSTOMER_FEATURES = marts()["customer_features"].name


def orders_uri() -> str:
    return f"s3://{placeholders.RAW_BUCKET}/{RAW_OLTP}/orders/"


def features_uri() -> str:
    return f"s3://{placeholders.MARTS_BUCKET}/{CUSTOMER_FEATURES}/"


def scores_uri() -> str:
    return f"s3://{placeholders.CURATED_BUCKET}/{CUSTOMER_SCORES}/"
