"""`ecom ml fit-btyd` through the CLI: CDNOW's published fit, the holdout check and the
per-customer file against the model functions, and bad logs refused with one clear line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from local_platform import console
from local_platform.cli import app
from sagemaker_pipelines.models import cdnow
from sagemaker_pipelines.models.btyd import (
    BgNbd,
    GammaGamma,
    discounted_clv,
    fit_bgnbd,
    fit_gamma_gamma,
)
from sagemaker_pipelines.models.evaluation import btyd_holdout_prediction
from sagemaker_pipelines.models.transactions import RfmSummary, clean_transactions, rfm_summary

runner = CliRunner()
CDNOW_ARGS = [
    "--calibration-end",
    cdnow.CALIBRATION_END,
    "--date-format",
    cdnow.DATE_FORMAT,
    "--unit",
    "weeks",
    "--duplicates",
    "keep",
]
PREDICTION_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "expected_purchases",
    "p_alive",
    "expected_average_spend",
    "clv",
]
CHECKED_CUSTOMERS = [1, 1516]
"""Customer 1 has the paper's worked example's history (x=2, t_x=30.43, T=38.86); 1516 is a
heavy buyer (x=26)."""


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the terminal's width and breaks a long word (an xdist worker's
    temporary path) anywhere: the messages checked here must come out on one line."""
    monkeypatch.setattr(console.stderr, "width", 1000)


def fit_btyd(*args: str | Path) -> Result:
    return runner.invoke(app, ["ml", "fit-btyd", *map(str, args)])


def flat(text: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw CDNOW sample as an analyst would export it (dates as YYYYMMDD)."""
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.csv"
    cdnow.read_cdnow("sample").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def summary() -> RfmSummary:
    log, _ = clean_transactions(
        cdnow.read_cdnow("sample"), duplicates="keep", date_format=cdnow.DATE_FORMAT
    )
    return rfm_summary(log, cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, unit_days=cdnow.UNIT_DAYS)


@pytest.fixture(scope="module")
def models(summary: RfmSummary) -> tuple[BgNbd, GammaGamma]:
    customers = summary.customers
    bgnbd = fit_bgnbd(customers["frequency"], customers["recency"], customers["T"])
    gamma_gamma = fit_gamma_gamma(customers["frequency"], customers["monetary_value"])
    return bgnbd.params, gamma_gamma.params


@pytest.fixture(scope="module")
def holdout_run(cdnow_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("predictions") / "predictions.csv"
    result = fit_btyd(
        "--transactions", cdnow_csv, *CDNOW_ARGS, "--holdout-end", cdnow.HOLDOUT_END,
        "--json", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


def test_json_gives_the_published_parameters(holdout_run: tuple[Any, Path]) -> None:
    document, _ = holdout_run
    bgnbd, gamma_gamma = document["bgnbd"], document["gamma_gamma"]
    assert [round(bgnbd[name], 3) for name in ("r", "alpha", "a", "b")] == [
        0.243,
        4.414,
        0.793,
        2.426,
    ]
    assert [round(gamma_gamma[name], 2) for name in ("p", "q", "v")] == [6.25, 3.74, 15.44]
    assert (document["customers"], document["repeat_customers"]) == (2357, 946)
    assert document["unit"] == "weeks"


def test_json_reports_the_cleaning_step(holdout_run: tuple[Any, Path]) -> None:
    """CDNOW's 21 identical rows are genuine orders: kept, and counted."""
    cleaning = holdout_run[0]["cleaning"]
    assert cleaning["rows_read"] == cleaning["rows_kept"] == 6919
    assert cleaning["duplicate_rows"] == 21


def test_holdout_totals_are_the_library_functions(
    holdout_run: tuple[Any, Path], summary: RfmSummary, models: tuple[BgNbd, GammaGamma]
) -> None:
    holdout = holdout_run[0]["holdout"]
    purchases, revenue = btyd_holdout_prediction(summary, *models)
    actual = summary.customers["holdout_frequency"].sum()
    assert holdout["length"] == 39.0
    assert holdout["predicted_purchases"] == pytest.approx(purchases.sum(), rel=1e-9)
    assert holdout["actual_purchases"] == actual == 1882
    assert holdout["purchases_error"] == pytest.approx(purchases.sum() / actual - 1, rel=1e-9)
    assert holdout["predicted_revenue"] == pytest.approx(revenue.sum(), rel=1e-9)
    assert holdout["actual_revenue"] == pytest.approx(summary.customers["holdout_revenue"].sum())
    by_frequency = {row["frequency"]: row for row in holdout["by_frequency"]}
    assert list(by_frequency) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["customers"] for row in by_frequency.values()) == 2357


def test_out_holds_the_model_functions_per_customer(
    holdout_run: tuple[Any, Path], summary: RfmSummary, models: tuple[BgNbd, GammaGamma]
) -> None:
    _, out = holdout_run
    written = pd.read_csv(out, index_col="customer_id")
    assert list(written.columns) == [*PREDICTION_COLUMNS, "holdout_frequency", "holdout_revenue"]
    assert len(written) == 2357

    bgnbd, gamma_gamma = models
    customers = summary.customers.loc[CHECKED_CUSTOMERS]
    rfm = customers["frequency"], customers["recency"], customers["T"]
    expected = pd.DataFrame(
        {
            "frequency": customers["frequency"],
            "recency": customers["recency"],
            "T": customers["T"],
            "monetary_value": customers["monetary_value"],
            "expected_purchases": bgnbd.conditional_expected_purchases(39.0, *rfm),
            "p_alive": bgnbd.p_alive(*rfm),
            "expected_average_spend": gamma_gamma.expected_average_spend(
                customers["frequency"], customers["monetary_value"]
            ),
            "clv": discounted_clv(
                bgnbd, gamma_gamma, *rfm, customers["monetary_value"], unit_days=7.0
            ),
            "holdout_frequency": customers["holdout_frequency"],
            "holdout_revenue": customers["holdout_revenue"],
        }
    )
    np.testing.assert_allclose(written.loc[CHECKED_CUSTOMERS], expected, rtol=1e-9)
    assert written.loc[1, "expected_purchases"] == pytest.approx(1.226, abs=5e-4)


def test_tables_show_the_fit_and_the_holdout(cdnow_csv: Path) -> None:
    result = fit_btyd("--transactions", cdnow_csv, *CDNOW_ARGS, "--holdout-end", cdnow.HOLDOUT_END)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # tables are for people: stderr, like the other commands
    text = flat(result.stderr)
    for shown in ("r │ 0.2426", "alpha │ 4.4136", "a │ 0.7929", "b │ 2.4259", "p │ 6.2496"):
        assert shown in text
    assert "(time in weeks)" in text
    assert "repeat purchases │ 1,653.4 │ 1,882 │ -12.1%" in text
    assert "identical to an earlier row │ 21" in text


def test_without_a_holdout_the_horizon_is_a_year_and_parquet_works(
    cdnow_csv: Path, tmp_path: Path, summary: RfmSummary, models: tuple[BgNbd, GammaGamma]
) -> None:
    out = tmp_path / "predictions.parquet"
    result = fit_btyd("--transactions", cdnow_csv, *CDNOW_ARGS, "--json", "--out", out)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["holdout"] is None
    assert document["predictions"]["horizon"] == pytest.approx(365 / 7)
    written = pd.read_parquet(out)
    assert list(written.columns) == PREDICTION_COLUMNS
    written.index = written.index.astype(int)  # ids are read as text, so sorted as text
    customers = summary.customers
    written = written.loc[customers.index]
    expected = models[0].conditional_expected_purchases(
        365 / 7, customers["frequency"], customers["recency"], customers["T"]
    )
    np.testing.assert_allclose(written["expected_purchases"], expected, rtol=1e-9)


def test_days_scale_alpha_only(cdnow_csv: Path, holdout_run: tuple[Any, Path]) -> None:
    weeks = holdout_run[0]["bgnbd"]
    days_args = [arg if arg != "weeks" else "days" for arg in CDNOW_ARGS]
    result = fit_btyd("--transactions", cdnow_csv, *days_args, "--json")

    assert result.exit_code == 0, result.output
    days = json.loads(result.stdout)["bgnbd"]
    assert days["alpha"] == pytest.approx(7 * weeks["alpha"], rel=1e-4)
    assert [days[name] for name in ("r", "a", "b")] == pytest.approx(
        [weeks[name] for name in ("r", "a", "b")], rel=1e-4
    )


def test_help_says_the_time_unit() -> None:
    text = flat(runner.invoke(app, ["ml", "fit-btyd", "--help"]).output.replace("│", " "))
    assert "Time unit of recency, T, the holdout length and the expected purchases' horizon" in (
        text
    )
    assert "[default: days]" in text


def cdnow_rows(count: int = 400) -> pd.DataFrame:
    """The first rows of the CDNOW sample, without its identical rows, ISO dates."""
    log = cdnow.read_cdnow("sample").drop_duplicates().head(count)
    dates = pd.to_datetime(log["date"].astype(str), format=cdnow.DATE_FORMAT)
    return log.assign(date=dates.dt.strftime("%Y-%m-%d"))


BAD_ROW = {"customer_id": 1, "date": "1997-01-05", "amount": 10.0}


def missing_column() -> pd.DataFrame:
    return cdnow_rows().rename(columns={"amount": "total"})


def unparsable_date() -> pd.DataFrame:
    return pd.concat([cdnow_rows(), pd.DataFrame([{**BAD_ROW, "date": "1997-02-30"}])])


def negative_amount() -> pd.DataFrame:
    return pd.concat([cdnow_rows(), pd.DataFrame([{**BAD_ROW, "amount": -12.5}])])


def duplicate_rows() -> pd.DataFrame:
    rows = cdnow_rows()
    return pd.concat([rows, rows.head(3)])


@pytest.mark.parametrize(
    ("make_log", "arguments", "message"),
    [
        (missing_column, [], "missing column(s) ['amount']; the log has ['customer_id', 'date', "),
        (
            unparsable_date,
            [],
            "1 row(s) with a missing or unparsable date in column 'date' "
            "(--drop-invalid drops and counts them)",
        ),
        (
            negative_amount,
            [],
            "1 row(s) with a negative amount in column 'amount' "
            "(--drop-invalid drops and counts them)",
        ),
        (
            duplicate_rows,
            [],
            "3 row(s) with an identical earlier row in column 'customer_id, date, amount' "
            "(--duplicates drop or keep handles them)",
        ),
        (
            cdnow_rows,
            ["--calibration-end", "1999-09-30"],
            "calibration end 1999-09-30 is outside the log (1997-01-01 to ",
        ),
        (
            cdnow_rows,
            ["--holdout-end", "1997-02-01"],
            "holdout end 1997-02-01 must be after the calibration end 1997-03-31",
        ),
        (
            lambda: cdnow_rows(30),
            ["--calibration-end", "1997-01-31"],
            "customers bought again; BG/NBD needs at least 10",
        ),
    ],
    ids=[
        "missing column",
        "unparsable date",
        "negative amount",
        "duplicate rows",
        "calibration end outside",
        "holdout before calibration",
        "too few repeat customers",
    ],
)
def test_bad_logs_exit_2_with_one_clear_line_and_write_nothing(
    tmp_path: Path, make_log: Any, arguments: list[str], message: str
) -> None:
    log = tmp_path / "log.csv"
    make_log().to_csv(log, index=False)
    out = tmp_path / "predictions.csv"
    options = {
        "--calibration-end": "1997-03-31",
        **dict(zip(arguments[::2], arguments[1::2], strict=True)),
    }

    result = fit_btyd(
        "--transactions", log, *[item for pair in options.items() for item in pair], "--out", out
    )

    assert result.exit_code == 2, result.output
    assert flat(result.stderr).startswith(f"error: {log}: ")
    assert message in flat(result.stderr)
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [log]


def test_drop_invalid_counts_what_it_drops(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    rows = cdnow_rows()
    bad = pd.DataFrame(
        [
            {**BAD_ROW, "date": "not a date"},
            {**BAD_ROW, "amount": -1.0},
            {**BAD_ROW, "customer_id": None},
        ]
    )
    pd.concat([rows, bad, rows.head(2)]).to_csv(log, index=False)

    result = fit_btyd(
        "--transactions", log, "--calibration-end", "1997-03-31", "--drop-invalid",
        "--duplicates", "drop", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cleaning"] == {
        "rows_read": len(rows) + 5,
        "missing_customers": 1,
        "unparsable_dates": 1,
        "unparsable_amounts": 0,
        "negative_amounts": 1,
        "duplicate_rows": 2,
        "rows_kept": len(rows),
    }


def test_a_holdout_without_purchases_is_refused(tmp_path: Path) -> None:
    """The calibration customers never buy again, so there is nothing to check against."""
    rows = cdnow_rows()
    late = pd.DataFrame([{"customer_id": 99_999, "date": "1997-06-30", "amount": 5.0}])
    log = tmp_path / "log.csv"
    pd.concat([rows[rows["date"] <= "1997-03-31"], late]).to_csv(log, index=False)
    out = tmp_path / "predictions.csv"
    out.write_text("an earlier run's file\n")

    result = fit_btyd(
        "--transactions", log, "--calibration-end", "1997-03-31", "--holdout-end", "1997-06-30",
        "--out", out,
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "the holdout to 1997-06-30 holds no purchase by the" in flat(result.stderr)
    assert out.read_text() == "an earlier run's file\n"


def test_unreadable_csv_and_conflicting_options_exit_2(tmp_path: Path, cdnow_csv: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    unreadable = fit_btyd("--transactions", empty, "--calibration-end", "1997-03-31")
    conflicting = fit_btyd(
        "--transactions", cdnow_csv, *CDNOW_ARGS, "--holdout-end", cdnow.HOLDOUT_END,
        "--horizon-days", "90",
    )  # fmt: skip
    missing = fit_btyd("--transactions", tmp_path / "nope.csv", "--calibration-end", "1997-03-31")

    assert unreadable.exit_code == 2
    assert f"cannot read {empty} as CSV" in flat(unreadable.stderr)
    assert conflicting.exit_code == 2
    assert "--horizon-days applies only without --holdout-end" in flat(conflicting.stderr)
    assert missing.exit_code == 2
    assert "does not exist" in flat(missing.output)
