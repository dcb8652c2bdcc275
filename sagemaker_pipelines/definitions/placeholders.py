"""What a pipeline definition cannot know until it is deployed, and the names both sides
agree on. The definitions are built with these placeholder strings; the ML stack replaces each
with its CloudFormation value (bucket names, the role ARN, the region's image, the code asset).
Pure Python on purpose: the stack imports it without the SageMaker SDK."""

from __future__ import annotations

from dataclasses import dataclass

# Lower-case with hyphens, so the SDK takes them for ordinary bucket names, ARNs and regions.
ARTIFACTS_BUCKET = "placeholder-artifacts-bucket"
RAW_BUCKET = "placeholder-raw-bucket"
CURATED_BUCKET = "placeholder-curated-bucket"
MARTS_BUCKET = "placeholder-marts-bucket"
ROLE_ARN = "arn:aws:iam::000000000000:role/placeholder-pipeline-role"
REGION = "placeholder-region-1"
SKLEARN_IMAGE_URI = "000000000000.dkr.ecr.placeholder-region-1.amazonaws.com/placeholder-sklearn"
SOURCE_URI = f"s3://{ARTIFACTS_BUCKET}/placeholder-source/sourcedir.tar.gz"
# The curated zone's Glue database, where the scoring step registers each day's partition.
CURATED_DATABASE = "placeholder_curated_database"
# The OLTP database's RDS secret: the scoring step upserts the day's scores there.
DATABASE_SECRET = "arn:aws:secretsmanager:placeholder-region-1:000000000000:secret:placeholder-db"  # noqa: S105 an ARN placeholder, no secret
# The jobs' network: the platform VPC's private subnets and the jobs' security group.
SECURITY_GROUP = "sg-placeholder-pipeline-jobs"
_SUBNET = "subnet-placeholder-{:02d}"

ALL = (
    SOURCE_URI,
    SKLEARN_IMAGE_URI,
    ROLE_ARN,
    ARTIFACTS_BUCKET,
    RAW_BUCKET,
    CURATED_BUCKET,
    MARTS_BUCKET,
    REGION,
    CURATED_DATABASE,
    SECURITY_GROUP,
    DATABASE_SECRET,
)


def subnets(count: int) -> list[str]:
    """One placeholder per private subnet of the VPC (one per availability zone)."""
    return [_SUBNET.format(index) for index in range(count)]


# The stock scikit-learn image the steps run on (Python 3.10); its ECR account differs by region.
SKLEARN_VERSION = "1.4-2"
SKLEARN_IMAGE_REPOSITORY = "sagemaker-scikit-learn"
SKLEARN_IMAGE_TAG = f"{SKLEARN_VERSION}-cpu-py3"
# Where the pipelines keep their own objects in the artifacts bucket.
ML_PREFIX = "ml"


@dataclass(frozen=True)
class PipelineNames:
    """The pipelines and model package groups of one environment."""

    training: str
    scoring: str
    churn_group: str
    clv_group: str

    @classmethod
    def for_prefix(cls, prefix: str) -> PipelineNames:
        """Names under the platform's resource prefix, e.g. `ecommerce-dev`."""
        return cls(
            training=f"{prefix}-ml-training",
            scoring=f"{prefix}-ml-scoring",
            churn_group=f"{prefix}-churn",
            clv_group=f"{prefix}-clv",
        )


@dataclass(frozen=True)
class TrainingDefaults:
    """Default values of the training pipeline's parameters that come from config: the churn
    horizon and the condition's thresholds."""

    horizon_days: int
    min_churn_auc: float
    max_churn_brier: float
    max_clv_revenue_error: float

    def parameters(self) -> dict[str, int | float]:
        """These values under the names of the training pipeline's parameters (how a schedule
        or a local run passes them to an execution)."""
        return {
            "HorizonDays": self.horizon_days,
            "MinChurnAuc": self.min_churn_auc,
            "MaxChurnBrier": self.max_churn_brier,
            "MaxClvRevenueError": self.max_clv_revenue_error,
        }


def substitute(body: str, values: dict[str, str]) -> str:
    """`body` with every placeholder replaced by its value; the longest placeholders first, so
    the source URI is replaced before the bucket it contains."""
    for placeholder in sorted(values, key=len, reverse=True):
        body = body.replace(placeholder, values[placeholder])
    return body
