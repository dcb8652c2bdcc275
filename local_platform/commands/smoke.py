"""`ecom smoke`: the smoke test of a deployed environment (`--env staging`, from its
CloudFormation outputs) or of the local platform (`--local`). Prints one row per hop with its
result and time, and exits 1 naming the first hop that failed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cdk_app.config import ConfigError, load_config
from local_platform.commands.options import DatabaseUrlOption
from local_platform.console import fail, stderr
from local_platform.smoke.hops import (
    PASSED,
    Hop,
    HopResult,
    SmokeEvent,
    first_failure,
    results_markdown,
    results_table,
    run_hops,
    smoke_event,
)

DEFAULT_COLLECTOR_URL = "http://127.0.0.1:8080"  # `ecom collector serve`'s default port


def smoke(
    env: Annotated[
        str, typer.Option(help="Environment in cdk.json: whose stacks (or, locally, models).")
    ] = "dev",
    local: Annotated[
        bool, typer.Option("--local", help="Check the local platform instead of AWS.")
    ] = False,
    region: Annotated[
        str | None,
        typer.Option(
            help="AWS region. Default: the environment's, else AWS_REGION.", show_default=False
        ),
    ] = None,
    collector_url: Annotated[
        str, typer.Option(help="--local: the collector's base URL.")
    ] = DEFAULT_COLLECTOR_URL,
    database_url: DatabaseUrlOption = None,
    lake: Annotated[
        Path | None,
        typer.Option(help="--local: the lake folder (default .local/lake).", show_default=False),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="--local: the DuckDB warehouse (default .local/warehouse.duckdb).",
            show_default=False,
        ),
    ] = None,
    dashboards: Annotated[
        Path | None,
        typer.Option(
            help="--local: the dashboard site's index.html (default .local/dashboards/).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Seconds the event may take to reach the real-time tables (30 local, 300 AWS).",
            show_default=False,
        ),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            help="Also append the results as a Markdown table (e.g. $GITHUB_STEP_SUMMARY).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Send one tagged event through the platform and check every hop end to end."""
    try:
        config = load_config(env)
    except ConfigError as error:
        fail(str(error))
    event = smoke_event()
    if local:
        title, hops, cleanup = _local(
            env, collector_url, database_url, lake, warehouse, dashboards, timeout, event
        )
    else:
        title, hops, cleanup = _aws(env, region, config.region, timeout, event)
    stderr.print(f"{title}: event {event.event_id} (page /smoke/{event.tag})", highlight=False)
    results = run_hops(hops, on_result=_progress)
    if results[0].status == PASSED:  # the first hop sent the event: something may hold it
        cleanup()
    console = Console()
    if not console.is_terminal:  # CI logs: keep each hop on one line where it fits
        console = Console(width=160)
    console.print(results_table(results, title))
    if markdown is not None:
        with markdown.open("a", encoding="utf-8") as summary:
            summary.write(results_markdown(results, title))
    failed = first_failure(results)
    if failed is not None:
        fail(f"smoke test failed at hop '{failed.name}': {failed.detail}")


def _progress(result: HopResult) -> None:
    stderr.print(f"  {result.status:<4} {result.name} ({result.seconds:.1f} s)", highlight=False)


def _local(
    env: str,
    collector_url: str,
    database_url: str | None,
    lake: Path | None,
    warehouse: Path | None,
    dashboards: Path | None,
    timeout: float | None,
    event: SmokeEvent,
) -> tuple[str, list[Hop], Callable[[], None]]:
    import psycopg

    from local_platform.batch_pipeline import DEFAULT_LAKE
    from local_platform.embedded_postgres import resolve_database_url
    from local_platform.errors import exit_unless_reachable, one_line
    from local_platform.local_warehouse import DEFAULT_WAREHOUSE
    from local_platform.ml_runner import model_groups
    from local_platform.paths import LOCAL_HOME
    from local_platform.smoke.local import LocalPlatform, local_hops, remove_smoke_rows

    url = resolve_database_url(database_url)
    exit_unless_reachable(url)
    platform = LocalPlatform(
        collector_url=collector_url,
        database_url=url,
        lake_root=lake or DEFAULT_LAKE,
        warehouse=warehouse or DEFAULT_WAREHOUSE,
        dashboards=dashboards or LOCAL_HOME / "dashboards" / "index.html",
        churn_group=model_groups(env)[0],
        realtime_timeout_s=timeout or 30.0,
    )

    def cleanup() -> None:
        try:
            removed = remove_smoke_rows(platform.database_url, event)
        except psycopg.Error as error:  # reported; never hides the hops' results
            stderr.print(f"could not remove the smoke event's rows: {one_line(error)}")
            return
        stderr.print(f"Removed the smoke event's rows from the real-time tables ({removed}).")

    return "Smoke test of the local platform", local_hops(platform, event), cleanup


def _aws(
    env: str, region: str | None, pinned: str | None, timeout: float | None, event: SmokeEvent
) -> tuple[str, list[Hop], Callable[[], None]]:
    import boto3
    from botocore.exceptions import BotoCoreError

    from local_platform.smoke.aws import AwsClients, DeploymentError, aws_hops, read_deployment

    session = boto3.session.Session()
    region = region or pinned or os.environ.get("AWS_REGION") or session.region_name
    if pinned and region != pinned:
        fail(f"wrong region: {env} is deployed to {pinned} (cdk.json), not {region}")
    if not region:
        fail("no AWS region: pass --region or set AWS_REGION (or the environment's region)")
    if region not in session.get_available_regions("cloudformation"):
        fail(f"unknown AWS region {region!r}")
    try:
        deployment = read_deployment(
            session.client("cloudformation", region_name=region), env, region
        )
        clients = AwsClients(
            glue=session.client("glue", region_name=region),
            sagemaker=session.client("sagemaker", region_name=region),
            redshift_data=session.client("redshift-data", region_name=region),
            quicksight=session.client("quicksight", region_name=region),
        )
    except DeploymentError as error:
        fail(str(error))
    except BotoCoreError as error:
        fail(f"cannot use AWS in {region}: {error}")
    hops = aws_hops(deployment, clients, event, realtime_timeout_s=timeout or 300.0)

    def cleanup() -> None:
        stderr.print(
            f"Left in place (append-only): the event in the events topic and the streaming"
            f" view, tagged /smoke/{event.tag}."
        )

    return f"Smoke test of {env} ({deployment.account}, {region})", hops, cleanup
