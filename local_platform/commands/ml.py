"""`ecom ml ...`: the customer models on this machine.

`fit-btyd` fits BG/NBD and Gamma-Gamma to any transaction log for analysts; `train`,
`approve`, `score` and `run` interpret the SageMaker pipelines' definitions over a local lake
(local_platform/ml_runner.py); the options are the pipelines' parameters. The modelling
lives in sagemaker_pipelines/models and needs the `ml` extra (pandas, scipy); it is imported
when the command runs, so the rest of `ecom` works without it. This module only reads the
options and the CSV, and presents the report.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from local_platform.commands.options import DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.demo.settings import DEMO_HOME
from local_platform.ml_runner import configured_training

if TYPE_CHECKING:
    import pandas as pd

    from sagemaker_pipelines.definitions.placeholders import TrainingDefaults
    from sagemaker_pipelines.models.btyd_report import BtydReport, HoldoutCheck

INPUT_ERROR = 2
"""Exit code for input the models refuse (the same as a bad option); 1 is a failed fit."""
DEFAULT_HORIZON_DAYS = 365
EPILOG = (
    "Bad input (missing columns, unparsable dates, negative amounts, duplicate rows, periods "
    "outside the log, too few repeat customers) exits with code 2 and one line naming it; "
    "nothing is written to --out."
)

app = typer.Typer(help="Customer models: lifetime value and churn.", no_args_is_help=True)


class Unit(StrEnum):
    days = "days"
    weeks = "weeks"


UNIT_DAYS = {Unit.days: 1.0, Unit.weeks: 7.0}


class Duplicates(StrEnum):
    raise_ = "raise"
    drop = "drop"
    keep = "keep"


def _day_option(description: str) -> Any:
    """A day given as YYYY-MM-DD."""
    return typer.Option(
        formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help=description, show_default=False
    )


@app.command("fit-btyd", epilog=EPILOG)
def fit_btyd(
    transactions: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Transaction log as CSV with a header: one row per order.",
        ),
    ],
    calibration_end: Annotated[
        datetime, _day_option("Last day (inclusive) of the history the models are fitted on.")
    ],
    holdout_end: Annotated[
        datetime | None,
        _day_option(
            "Last day of a holdout after the calibration end: prints predicted against actual "
            "repeat purchases, and the expected purchases cover its length."
        ),
    ] = None,
    customer_col: Annotated[str, typer.Option(help="Column holding the customer id.")] = (
        "customer_id"
    ),
    date_col: Annotated[str, typer.Option(help="Column holding the order date or timestamp.")] = (
        "date"
    ),
    amount_col: Annotated[str, typer.Option(help="Column holding the order amount.")] = "amount",
    date_format: Annotated[
        str | None,
        typer.Option(
            help="strftime format of the dates, e.g. %Y%m%d. Default: ISO 8601 (timestamps with "
            "a zone are taken to UTC days).",
            show_default=False,
        ),
    ] = None,
    unit: Annotated[
        Unit,
        typer.Option(
            help="Time unit of recency, T, the holdout length and the expected purchases' "
            "horizon. Days suit retail logs (summarized by purchase day); weeks are the BTYD "
            "papers' unit. r, a and b do not depend on it; alpha scales with it.",
        ),
    ] = Unit.days,
    horizon_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Without a holdout: days the expected purchases cover (default "
            f"{DEFAULT_HORIZON_DAYS}). With a holdout they cover the holdout.",
            show_default=False,
        ),
    ] = None,
    clv_months: Annotated[
        int, typer.Option(min=1, max=120, help="Months of revenue the CLV sums.")
    ] = 12,
    discount_rate: Annotated[
        float, typer.Option(min=0.0, help="Annual discount rate of the CLV.")
    ] = 0.10,
    drop_invalid: Annotated[
        bool,
        typer.Option(
            "--drop-invalid",
            help="Drop and count rows without a customer, with an unparsable date or amount, "
            "or a negative amount. Default: refuse the log.",
        ),
    ] = False,
    duplicates: Annotated[
        Duplicates,
        typer.Option(
            help="Fully identical rows: refuse the log (raise), drop them, or keep them as "
            "genuine repeat orders."
        ),
    ] = Duplicates.raise_,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Write per-customer predictions here: CSV, or Parquet when the name ends in "
            ".parquet. Written only when the fit succeeds.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fit BG/NBD and Gamma-Gamma to a transaction log; print the parameters and, with a
    holdout, predicted against actual repeat purchases."""
    try:
        import pandas as pd

        from sagemaker_pipelines.models.btyd import FitError, InsufficientDataError
        from sagemaker_pipelines.models.btyd_report import fit_btyd_report
        from sagemaker_pipelines.models.transactions import (
            InvalidRowsError,
            TransactionColumns,
            TransactionsError,
        )
    except ImportError as error:
        fail(f"`ecom ml` needs the ml extra (pip install -e '.[ml]'): {error}")

    if holdout_end is not None and horizon_days is not None:
        fail("--horizon-days applies only without --holdout-end", INPUT_ERROR)
    try:
        frame = pd.read_csv(transactions, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        fail(f"cannot read {transactions} as CSV: {error}", INPUT_ERROR)
    try:
        report = fit_btyd_report(
            frame,
            calibration_end,
            holdout_end,
            columns=TransactionColumns(customer_col, date_col, amount_col),
            unit_days=UNIT_DAYS[unit],
            horizon_days=None if holdout_end else (horizon_days or DEFAULT_HORIZON_DAYS),
            clv_months=clv_months,
            annual_discount_rate=discount_rate,
            drop_invalid=drop_invalid,
            duplicates=duplicates.value,
            date_format=date_format,
        )
    except InvalidRowsError as error:
        hint = (
            "--drop-invalid drops and counts them"
            if error.column in (customer_col, date_col, amount_col)
            else "--duplicates drop or keep handles them"
        )
        fail(f"{transactions}: {error} ({hint})", INPUT_ERROR)
    except (TransactionsError, InsufficientDataError) as error:
        fail(f"{transactions}: {error}", INPUT_ERROR)
    except FitError as error:
        fail(f"{transactions}: {error}")

    if out is not None:
        _write_predictions(report.predictions, out)
    if as_json:
        print(json.dumps(_document(report, unit, transactions, out), indent=2))
        return
    for table in _tables(report, unit, transactions):
        stderr.print(table)
    if out is not None:
        stderr.print(f"Predictions for {len(report.predictions):,} customers written to {out}")


def _write_predictions(predictions: pd.DataFrame, out: Path) -> None:
    """Write through a temporary file in the same folder, so a failure leaves no partial file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if out.suffix == ".parquet":
            predictions.to_parquet(partial)
        else:
            predictions.to_csv(partial)
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {out}: {error}")


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined figure is null."""
    return value if math.isfinite(value) else None


def _document(
    report: BtydReport, unit: Unit, transactions: Path, out: Path | None
) -> dict[str, Any]:
    """The report as one JSON-ready document; times in `unit`."""
    summary, bgnbd, gamma_gamma = report.summary, report.bgnbd, report.gamma_gamma
    predictions = report.predictions
    return {
        "transactions": str(transactions),
        "unit": unit.value,
        "calibration_end": summary.calibration_end.date().isoformat(),
        "holdout_end": summary.holdout_end.date().isoformat() if summary.holdout_end else None,
        "cleaning": asdict(report.cleaning),
        "customers": bgnbd.n_customers,
        "repeat_customers": bgnbd.n_repeat_customers,
        "new_in_holdout": summary.new_in_holdout if summary.holdout_end else None,
        "bgnbd": {**asdict(bgnbd.params), "log_likelihood": bgnbd.log_likelihood},
        "gamma_gamma": {
            **asdict(gamma_gamma.params),
            "log_likelihood": gamma_gamma.log_likelihood,
            "customers": gamma_gamma.n_customers,
        },
        "spend_frequency_correlation": _finite(report.spend_frequency_correlation),
        "predictions": {
            "horizon": report.horizon,
            "expected_purchases": float(predictions["expected_purchases"].sum()),
            "mean_p_alive": float(predictions["p_alive"].mean()),
            "clv_months": report.clv_months,
            "annual_discount_rate": report.annual_discount_rate,
            "clv": float(predictions["clv"].sum()),
        },
        "holdout": _holdout_document(report.holdout) if report.holdout else None,
        "out": str(out) if out else None,
    }


def _holdout_document(holdout: HoldoutCheck) -> dict[str, Any]:
    by_frequency = holdout.by_frequency.reset_index()
    return {
        "length": holdout.length,
        "customers": holdout.customers,
        "actual_purchases": holdout.actual_purchases,
        "predicted_purchases": holdout.predicted_purchases,
        "purchases_error": holdout.purchases_error,
        "actual_revenue": holdout.actual_revenue,
        "predicted_revenue": holdout.predicted_revenue,
        "revenue_error": holdout.revenue_error,
        "by_frequency": by_frequency.to_dict(orient="records"),
    }


def _tables(report: BtydReport, unit: Unit, transactions: Path) -> list[Table]:
    """Cleaning, the fitted parameters, the predictions and, with a holdout, its check."""
    cleaning = report.cleaning
    read = Table("rows", "count", title=f"Cleaning {transactions}")
    for label, count in [
        ("read", cleaning.rows_read),
        ("without a customer", cleaning.missing_customers),
        ("unparsable date", cleaning.unparsable_dates),
        ("unparsable amount", cleaning.unparsable_amounts),
        ("negative amount", cleaning.negative_amounts),
        ("identical to an earlier row", cleaning.duplicate_rows),
        ("kept", cleaning.rows_kept),
    ]:
        read.add_row(label, f"{count:,}")

    summary, bgnbd, gamma_gamma = report.summary, report.bgnbd, report.gamma_gamma
    params = Table(
        "model",
        "parameter",
        "value",
        title=f"Fit at {summary.calibration_end.date()}: {bgnbd.n_customers:,} customers, "
        f"{bgnbd.n_repeat_customers:,} with a repeat purchase (time in {unit.value})",
    )
    for name, value in asdict(bgnbd.params).items():
        params.add_row("BG/NBD", name, f"{value:.4f}")
    params.add_row("BG/NBD", "log-likelihood", f"{bgnbd.log_likelihood:,.2f}")
    for name, value in asdict(gamma_gamma.params).items():
        params.add_row("Gamma-Gamma", name, f"{value:.4f}")
    params.add_row("Gamma-Gamma", "log-likelihood", f"{gamma_gamma.log_likelihood:,.2f}")
    params.add_row("Gamma-Gamma", "customers used", f"{gamma_gamma.n_customers:,}")
    params.add_row(
        "Gamma-Gamma",
        "corr(frequency, spend)",
        f"{report.spend_frequency_correlation:.3f} (assumed near 0)",
    )

    predictions = report.predictions
    figures = Table("prediction", "value", title="Predictions, all customers")
    figures.add_row(
        f"expected purchases in the next {report.horizon:g} {unit.value}",
        f"{predictions['expected_purchases'].sum():,.1f}",
    )
    figures.add_row("mean P(alive)", f"{predictions['p_alive'].mean():.3f}")
    figures.add_row(
        f"CLV, {report.clv_months} months at {report.annual_discount_rate:.0%} a year",
        f"{predictions['clv'].sum():,.2f}",
    )
    tables = [read, params, figures]
    if report.holdout is not None:
        tables += _holdout_tables(report.holdout, unit, report.summary.new_in_holdout)
    return tables


def _holdout_tables(holdout: HoldoutCheck, unit: Unit, new_in_holdout: int) -> list[Table]:
    totals = Table(
        "holdout",
        "predicted",
        "actual",
        "error",
        title=f"Holdout: {holdout.length:g} {unit.value}, {holdout.customers:,} customers",
        caption=f"{new_in_holdout:,} customers whose first purchase is in the holdout are "
        "not counted",
    )
    totals.add_row(
        "repeat purchases",
        f"{holdout.predicted_purchases:,.1f}",
        f"{holdout.actual_purchases:,}",
        f"{holdout.purchases_error:+.1%}",
    )
    revenue_error = holdout.revenue_error
    totals.add_row(
        "revenue",
        f"{holdout.predicted_revenue:,.2f}",
        f"{holdout.actual_revenue:,.2f}",
        "n/a" if revenue_error is None else f"{revenue_error:+.1%}",
    )
    by_frequency = Table(
        "repeat purchases in calibration",
        "customers",
        "mean actual",
        "mean expected",
        title="Holdout purchases per customer",
    )
    for frequency, row in holdout.by_frequency.iterrows():
        by_frequency.add_row(
            str(frequency),
            f"{int(row['customers']):,}",
            f"{row['actual']:.2f}",
            f"{row['expected']:.2f}",
        )
    return [totals, by_frequency]


# The pipelines on this machine: the step scripts in pipeline order over the demo's lake.

LakeOption = Annotated[
    Path,
    typer.Option(help="Lake folder (raw, curated, marts) the steps read and the scores land in."),
]
RegistryOption = Annotated[
    Path | None,
    typer.Option(
        help="Local model registry folder. Default: model_registry beside the lake.",
        show_default=False,
    ),
]
EnvOption = Annotated[str, typer.Option(help="Environment in the model group names.")]
CutoffOption = Annotated[
    datetime | None,
    _day_option("Evaluation cutoff. Default: the last order day minus the horizon."),
]


def _configured_option(description: str) -> Any:
    """An option whose default is the environment's value in cdk.json's `ml` section."""
    return typer.Option(help=f"{description} Default: the environment's.", show_default=False)


HorizonOption = Annotated[
    int | None, _configured_option("Churned = no order in this many days after a cutoff.")
]
MinAucOption = Annotated[
    float | None, _configured_option("Register only with a churn AUC at least this.")
]
MaxBrierOption = Annotated[
    float | None, _configured_option("Register only with a churn Brier score at most this.")
]
MaxClvErrorOption = Annotated[
    float | None,
    _configured_option("Register only with a relative CLV holdout revenue error at most this."),
]
VersionOption = Annotated[
    str | None,
    typer.Option(help="Version to approve. Default: the newest pending one.", show_default=False),
]
AsOfOption = Annotated[
    datetime | None, _day_option("Scoring day (the partition as_of=). Default: today (UTC).")
]
WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        help="Local DuckDB warehouse. Default: warehouse.duckdb beside the lake.",
        show_default=False,
    ),
]


DEFAULT_LAKE = DEMO_HOME / "lake"


@app.command("train")
def train_command(
    lake: LakeOption = DEFAULT_LAKE,
    registry: RegistryOption = None,
    env: EnvOption = "dev",
    cutoff: CutoffOption = None,
    horizon_days: HorizonOption = None,
    min_churn_auc: MinAucOption = None,
    max_churn_brier: MaxBrierOption = None,
    max_clv_revenue_error: MaxClvErrorOption = None,
) -> None:
    """The training pipeline: prepare, train, evaluate; registers the model as
    PendingManualApproval when its metrics pass the thresholds."""
    _train(
        lake, registry, env, cutoff,
        *_training(env, horizon_days, min_churn_auc, max_churn_brier, max_clv_revenue_error),
    )  # fmt: skip


@app.command("approve")
def approve_command(
    lake: LakeOption = DEFAULT_LAKE,
    registry: RegistryOption = None,
    env: EnvOption = "dev",
    version: VersionOption = None,
) -> None:
    """Approve a registered version in the churn and CLV groups."""
    _approve(lake, registry, env, version)


@app.command("score")
def score_command(
    lake: LakeOption = DEFAULT_LAKE,
    registry: RegistryOption = None,
    env: EnvOption = "dev",
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The scoring pipeline with the latest approved version: every customer's scores to the
    lake (curated customer_scores), the DuckDB warehouse and PostgreSQL."""
    _score(lake, registry, env, as_of, warehouse, database_url)


@app.command("run")
def run_command(
    lake: LakeOption = DEFAULT_LAKE,
    registry: RegistryOption = None,
    env: EnvOption = "dev",
    cutoff: CutoffOption = None,
    horizon_days: HorizonOption = None,
    min_churn_auc: MinAucOption = None,
    max_churn_brier: MaxBrierOption = None,
    max_clv_revenue_error: MaxClvErrorOption = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """train, then approve the version it registered, then score."""
    version = _train(
        lake, registry, env, cutoff,
        *_training(env, horizon_days, min_churn_auc, max_churn_brier, max_clv_revenue_error),
    )  # fmt: skip
    _approve(lake, registry, env, version)
    _score(lake, registry, env, as_of, warehouse, database_url)


def _training(
    env: str,
    horizon_days: int | None,
    min_churn_auc: float | None,
    max_churn_brier: float | None,
    max_clv_revenue_error: float | None,
) -> tuple[TrainingDefaults, TrainingDefaults]:
    """The environment's training defaults (its definition's), and the parameters to start it
    with: each default replaced by its option when given."""
    from cdk_app.config import ConfigError

    try:
        defaults = configured_training(env)
    except ConfigError as error:
        fail(str(error))
    given = {
        "horizon_days": horizon_days,
        "min_churn_auc": min_churn_auc,
        "max_churn_brier": max_churn_brier,
        "max_clv_revenue_error": max_clv_revenue_error,
    }
    chosen = {name: value for name, value in given.items() if value is not None}
    return defaults, replace(defaults, **chosen)


def _train(
    lake: Path,
    registry: Path | None,
    env: str,
    cutoff: datetime | None,
    defaults: TrainingDefaults,
    parameters: TrainingDefaults,
) -> str:
    """Run training; the registered version, or exit naming why nothing was registered."""
    from local_platform.demo.ml import metrics_table
    from local_platform.ml_runner import (
        ConditionFailedError,
        MlPaths,
        StepRefusedError,
        pipeline_names,
        train,
    )

    try:
        trained = train(
            MlPaths.beside(lake, registry),
            pipeline_names(env),
            defaults,
            parameters=parameters,
            cutoff=cutoff.date() if cutoff else None,
        )
    except StepRefusedError as error:
        fail(str(error), INPUT_ERROR)
    except ConditionFailedError as error:
        stderr.print(metrics_table(error.evaluation))
        fail(str(error))
    stderr.print(metrics_table(trained.evaluation))
    for version in trained.versions:
        stderr.print(f"Registered {version.group} version {version.version} ({version.status})")
    return trained.versions[0].version


def _approve(lake: Path, registry: Path | None, env: str, version: str | None) -> None:
    from local_platform.ml_runner import MlPaths, approve, model_groups
    from sagemaker_pipelines.registry import RegistryError

    try:
        approved = approve(MlPaths.beside(lake, registry), model_groups(env), version)
    except RegistryError as error:
        fail(str(error))
    for model in approved:
        stderr.print(f"Approved {model.group} version {model.version}")


def _score(
    lake: Path,
    registry: Path | None,
    env: str,
    as_of: datetime | None,
    warehouse: Path | None,
    database_url: str | None,
) -> None:
    from local_platform.embedded_postgres import resolve_database_url
    from local_platform.errors import exit_when_unreachable
    from local_platform.ml_runner import MlPaths, StepRefusedError, pipeline_names, score
    from sagemaker_pipelines.registry import RegistryError

    url = resolve_database_url(database_url)
    with exit_when_unreachable(url):
        try:
            scored = score(
                MlPaths.beside(lake, registry),
                pipeline_names(env),
                database_url=url,
                warehouse=warehouse or lake.parent / "warehouse.duckdb",
                as_of=as_of.date() if as_of else None,
            )
        except RegistryError as error:
            fail(f"{error}: train and approve a model first (`ecom ml train`, `ecom ml approve`)")
        except StepRefusedError as error:
            fail(str(error), INPUT_ERROR)
    if scored.newer_pending is not None:
        stderr.print(
            f"[yellow]Version {scored.newer_pending.version} is pending approval;[/yellow] "
            f"scored with the approved version {scored.version.version}.",
            highlight=False,
        )
    stderr.print(
        f"Scored {scored.database_rows:,} customers as of {scored.as_of} with version "
        f"{scored.version.version}: {scored.scores}, warehouse table customer_scores "
        f"({scored.warehouse_rows:,} rows), PostgreSQL table ml.customer_scores.",
        highlight=False,
    )
