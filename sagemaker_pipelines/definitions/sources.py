"""Where the pipelines read from and write to in the lake: the folders (shared with the stack,
which grants exactly these) and the default URIs under the zone buckets' placeholders.
SDK-free, like `placeholders`."""

from __future__ import annotations

from contracts.lake import CUSTOMER_SCORES, job_table_folder
from contracts.marts import marts
from sagemaker_pipelines.definitions import placeholders

ORDERS_FOLDER = job_table_folder("extract_oltp", "orders")
TICKETS_FOLDER = job_table_folder("extract_oltp", "support_tickets")
CUSTOMER_FEATURES = marts()["customer_features"].name
RFM_SEGMENTS = marts()["mart_rfm_segments"].name


def orders_uri() -> str:
    return f"s3://{placeholders.RAW_BUCKET}/{ORDERS_FOLDER}/"


def tickets_uri() -> str:
    return f"s3://{placeholders.RAW_BUCKET}/{TICKETS_FOLDER}/"


def features_uri() -> str:
    return f"s3://{placeholders.MARTS_BUCKET}/{CUSTOMER_FEATURES}/"


def rfm_segments_uri() -> str:
    return f"s3://{placeholders.MARTS_BUCKET}/{RFM_SEGMENTS}/"


def scores_uri() -> str:
    return f"s3://{placeholders.CURATED_BUCKET}/{CUSTOMER_SCORES}/"
