"""The deployment identity as its own Stage, `delivery`, built only when the context asks for it
(`-c delivery_identity=true`), so deploying an environment never touches it."""

from __future__ import annotations

from aws_cdk import Stage, Tags
from constructs import Construct

from cdk_app.config import DeliveryConfig
from stacks.delivery import DeliveryStack
from stacks.nag_acknowledgements import acknowledge_delivery_findings

DELIVERY_STAGE = "delivery"
DELIVERY_CONTEXT_FLAG = "delivery_identity"


class DeliveryStage(Stage):
    """One stack, `delivery-Identity`: deploy it with `cdk deploy -c delivery_identity=true
    -c github_repository=OWNER/NAME 'delivery/*'` (docs/operations.md)."""

    def __init__(self, scope: Construct, *, config: DeliveryConfig) -> None:
        super().__init__(scope, DELIVERY_STAGE)
        self.identity = DeliveryStack(
            self,
            "Identity",
            config=config,
            description="Delivery: GitHub OIDC provider and the CI/CD roles - e-commerce analytics",
        )
        Tags.of(self).add("project", "ecommerce-analytics")
        acknowledge_delivery_findings(self, config)
