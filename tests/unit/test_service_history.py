"""Service history: tickets and refunds from the raw extracts, dated, counted per customer up
to a cutoff day, and joined to the features of every cutoff without looking past it."""

from __future__ import annotations

import pandas as pd
import pytest
from cdnow_like_shops import cdnow_like_shop

from sagemaker_pipelines.models.features import FEATURES, build_features, labelled_examples
from sagemaker_pipelines.models.service import (
    SERVICE_FEATURES,
    service_counts,
    service_events,
)
from sagemaker_pipelines.models.transactions import AMOUNT, CUSTOMER, DATE, MissingColumnsError


def _stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# Three extract batches; a row appears once per batch it changed in.
RAW_ORDERS = pd.DataFrame(
    [
        # Order 1 (user 10): placed, then refunded on 2025-03-05 in the second batch.
        (1, 10, None, "2025-03-01T10:00:00+00:00"),
        (1, 10, "2025-03-05T09:00:00+00:00", "2025-03-05T09:00:00+00:00"),
        # Order 2 (user 11): never refunded.
        (2, 11, None, "2025-03-02T10:00:00+00:00"),
        # Order 3 (user 10): refunded late on 2025-03-20 (UTC), in the third batch only.
        (3, 10, "2025-03-20T23:59:00+00:00", "2025-03-20T23:59:00+00:00"),
        # Order 4 (user 14): a refund the latest version withdrew is not counted.
        (4, 14, "2025-03-03T08:00:00+00:00", "2025-03-03T08:00:00+00:00"),
        (4, 14, None, "2025-03-04T08:00:00+00:00"),
    ],
    columns=["id", "user_id", "refunded_at", "updated_at"],
).assign(refunded_at=lambda f: pd.to_datetime(f["refunded_at"], utc=True))
RAW_TICKETS = pd.DataFrame(
    [
        # Ticket 1 (user 11) appears twice: updated when resolved; counted once.
        (1, 11, "2025-03-01T08:00:00+00:00", "2025-03-01T08:00:00+00:00"),
        (1, 11, "2025-03-01T08:00:00+00:00", "2025-03-02T12:00:00+00:00"),
        (2, 10, "2025-03-05T23:30:00+00:00", "2025-03-05T23:30:00+00:00"),
        # Opened at 00:10 in UTC+1: 23:10 UTC on 2025-03-05.
        (3, 12, "2025-03-06T00:10:00+01:00", "2025-03-06T00:10:00+01:00"),
        (4, 12, "2025-03-07T00:10:00+00:00", "2025-03-07T00:10:00+00:00"),
    ],
    columns=["id", "user_id", "opened_at", "updated_at"],
)
CUSTOMERS = pd.Index([10, 11, 12, 13, 14], name=CUSTOMER)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return service_events(RAW_ORDERS, RAW_TICKETS)


def test_events_are_the_latest_versions_dated_by_utc_day(events: pd.DataFrame) -> None:
    rows = sorted(
        (int(customer), day.date().isoformat(), kind)
        for customer, day, kind in events[[CUSTOMER, DATE, "kind"]].itertuples(index=False)
    )
    assert rows == [
        (10, "2025-03-05", "refunds"),
        (10, "2025-03-05", "tickets"),
        (10, "2025-03-20", "refunds"),
        (11, "2025-03-01", "tickets"),
        (12, "2025-03-05", "tickets"),
        (12, "2025-03-07", "tickets"),
    ]


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [
        # (tickets, refunds) for users 10..14; the cutoff day itself counts.
        ("2025-03-04", [(0, 0), (1, 0), (0, 0), (0, 0), (0, 0)]),
        ("2025-03-05", [(1, 1), (1, 0), (1, 0), (0, 0), (0, 0)]),
        ("2025-03-07", [(1, 1), (1, 0), (2, 0), (0, 0), (0, 0)]),
        ("2025-03-20", [(1, 2), (1, 0), (2, 0), (0, 0), (0, 0)]),
    ],
)
def test_counts_up_to_the_cutoff_day(
    events: pd.DataFrame, cutoff: str, expected: list[tuple[int, int]]
) -> None:
    counts = service_counts(events, _stamp(cutoff), CUSTOMERS)
    assert list(counts.columns) == list(SERVICE_FEATURES)
    assert list(counts.index) == list(CUSTOMERS)
    assert [tuple(row) for row in counts.itertuples(index=False)] == expected
    assert (counts.dtypes == "float64").all()


def test_an_extract_without_its_date_column_is_refused() -> None:
    with pytest.raises(MissingColumnsError, match="opened_at"):
        service_events(RAW_ORDERS, RAW_TICKETS.drop(columns="opened_at"))
    with pytest.raises(MissingColumnsError, match="refunded_at"):
        service_events(RAW_ORDERS.drop(columns="refunded_at"), RAW_TICKETS)


def test_each_cutoff_of_the_examples_counts_its_own_history(events: pd.DataFrame) -> None:
    """Users 10 to 12 join a simulated log (enough repeat buyers for the BG/NBD fit);
    each stacked cutoff carries the counts of its own day, after the log's features."""
    log = cdnow_like_shop(600, 120, "2025-06-30", seed=5).log
    log[CUSTOMER] += 1_000  # clear of the users the events name
    ours = pd.DataFrame(
        [(10, _stamp("2025-02-20"), 20.0), (11, _stamp("2025-02-25"), 35.0)],
        columns=[CUSTOMER, DATE, AMOUNT],
    )
    log = pd.concat([log, ours], ignore_index=True)
    built = build_features(log, _stamp("2025-03-05"), service=events)
    assert list(built.frame.columns) == [*FEATURES, *SERVICE_FEATURES]
    assert built.frame.loc[10, ["tickets", "refunds"]].tolist() == [1.0, 1.0]
    assert built.frame.loc[11, ["tickets", "refunds"]].tolist() == [1.0, 0.0]
    # A customer with only later events, or none, counts 0.
    assert (built.frame.drop(index=[10, 11])[list(SERVICE_FEATURES)] == 0).all().all()

    features, _ = labelled_examples(
        log, [_stamp("2025-03-04"), _stamp("2025-03-20")], service=events
    )
    assert features.loc[(_stamp("2025-03-04"), 10), "refunds"] == 0.0
    assert features.loc[(_stamp("2025-03-20"), 10), "refunds"] == 2.0
    assert features.loc[(_stamp("2025-03-04"), 11), "tickets"] == 1.0
