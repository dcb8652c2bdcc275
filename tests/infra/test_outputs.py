"""Outputs: everything operations needs, each explained."""

from __future__ import annotations

import pytest
from synthesized import REAL_ENVS, Assembly

from quicksight_templates.loader import load_definitions
from stacks.dashboards import construct_name

pytestmark = pytest.mark.infra

EXPECTED = {
    "Network": {"VpcId"},
    "Streaming": {
        "ClusterArn",
        "BootstrapBrokers",
        "TopicEcommerceEventsV1",
        "TopicEcommerceEventsDlq",
    },
    "Oltp": {
        "DatabaseEndpoint",
        "DatabasePort",
        "DatabaseName",
        "DatabaseSecretArn",
        "DbMigratorFunctionName",
    },
    "Lake": {
        "RawBucketName",
        "CuratedBucketName",
        "MartsBucketName",
        "ArtifactsBucketName",
        "AccessLogsBucketName",
        "LakeKeyArn",
        "RawCatalogDatabase",
        "CuratedCatalogDatabase",
        "MartsCatalogDatabase",
    },
    "Warehouse": {
        "WarehouseEndpoint",
        "WarehouseAdminSecretArn",
        "WarehouseDatabase",
        "CopyRoleArn",
        "StreamingIngestionRoleArn",
    },
    "Monitoring": {"DashboardUrl", "AlarmTopicArn"},
    "Ingest": {"CollectorApiUrl", "CollectorFunctionName", "RecommendationsRouteArn"},
    "Realtime": {
        "StreamProcessorFunctionName",
        "FailedBatchesQueueUrl",
        "RawStreamJobName",
        "RawStreamEventsUri",
        "RawStreamQuarantineUri",
        "StreamingViewName",
    },
    "Etl": {
        "BatchWorkflowName",
        "ExtractOltpJobName",
        "CurateEventsJobName",
        "BuildMartsJobName",
        "BuildRecommendationsJobName",
        "LoadWarehouseJobName",
    },
    "Ml": {
        "TrainingPipelineName",
        "ScoringPipelineName",
        "ChurnModelGroupName",
        "ClvModelGroupName",
        "PipelineRoleArn",
        "ScoresUri",
    },
    "Dashboards": {
        f"{construct_name(dashboard)}Dashboard{what}"
        for dashboard in load_definitions().dashboards
        for what in ("Id", "Url")
    },
}


@pytest.mark.parametrize("env", REAL_ENVS)
def test_each_stack_outputs_what_ops_needs_with_a_description(assembly: Assembly, env: str):
    for (_, stack), template in assembly.templates(env).items():
        # PublishOutput* are CDK's own cross-stack plumbing, not for people.
        outputs = {
            name: output
            for name, output in template.get("Outputs", {}).items()
            if not name.startswith("PublishOutput")
        }
        assert set(outputs) == EXPECTED[stack], stack
        for name, output in outputs.items():
            assert len(output.get("Description", "")) > 15, f"{stack}.{name}"
