"""redshift_sql: applies the warehouse's streaming-ingestion scripts (contracts/warehouse)
through the Redshift Data API whenever CloudFormation creates or updates the resource.

Properties: Database, SecretArn (the admin secret), WorkgroupName or ClusterIdentifier,
Values (the scripts' `${Name}` placeholders), StatementTimeoutSeconds, and a checksum of the
scripts so that editing one triggers an update. Re-running is safe: every script is IF NOT
EXISTS or is skipped when its materialized view exists. Delete keeps the objects: the view
holds the ingested events and the warehouse outlives the stack.
"""

from __future__ import annotations

from typing import Any

from contracts.warehouse import existence_probe, load_scripts
from contracts.warehouse.data_api import DataApi, Warehouse
from lambdas.shared.custom_resource import Outcome, Sender, put_response, respond

DEFAULT_TIMEOUT_S = 300.0


class ScriptFailedError(RuntimeError):
    """A script did not take effect; the message names the script and gives the cause."""


_client: Any = None


def handler(event: dict[str, Any], context: Any, send: Sender = put_response) -> dict[str, Any]:
    return respond(event, context, lambda request: apply_scripts(request, _data_api_client()), send)


def _data_api_client() -> Any:
    global _client
    if _client is None:
        import boto3  # part of the Lambda runtime

        _client = boto3.client("redshift-data")
    return _client


def apply_scripts(request: dict[str, Any], client: Any, **data_api_options: Any) -> Outcome:
    """Run each script that has not taken effect yet; the outcome lists applied and skipped."""
    properties = request["ResourceProperties"]
    warehouse = Warehouse(
        database=properties["Database"],
        secret_arn=properties["SecretArn"],
        workgroup_name=properties.get("WorkgroupName"),
        cluster_identifier=properties.get("ClusterIdentifier"),
    )
    target = warehouse.workgroup_name or warehouse.cluster_identifier
    physical_id = f"redshift-sql:{target}/{warehouse.database}/streaming"
    if request["RequestType"] == "Delete":
        return Outcome(request.get("PhysicalResourceId", physical_id))
    api = DataApi(
        client,
        warehouse,
        timeout_s=float(properties.get("StatementTimeoutSeconds", DEFAULT_TIMEOUT_S)),
        **data_api_options,
    )
    applied, skipped = [], []
    for script in load_scripts():
        statement = script.render(properties.get("Values", {}))
        probe = existence_probe(statement)
        try:
            if probe and api.has_rows(probe.sql, probe.parameters):
                skipped.append(script.name)
                continue
            api.run(statement)
        except Exception as error:  # the reason CloudFormation shows must name the script
            raise ScriptFailedError(f"{script.name}: {error}") from error
        applied.append(script.name)
    return Outcome(physical_id, {"Applied": ",".join(applied), "Skipped": ",".join(skipped)})
