"""What every stack of the platform starts from: the environment's config and the prefix that
names its resources, so no stack spells `ecommerce-<env>` again."""

from __future__ import annotations

from typing import Any

from aws_cdk import AspectPriority, Aspects, Stack
from constructs import Construct

from cdk_app.config import PlatformConfig
from stacks.constructs.log_encryption import EncryptLogGroups


class PlatformStack(Stack):
    """One concern of one environment. Subclasses take the stacks they build on as keyword
    arguments and pass `config` (and Stack options such as `description`) through."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PlatformConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        # Physical names (cluster, instance, warehouse, dashboard, jobs) start with it.
        self.prefix = f"ecommerce-{config.env_name}"
        Aspects.of(self).add(EncryptLogGroups(config), priority=AspectPriority.MUTATING)
