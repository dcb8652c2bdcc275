"""CDK entry point: one Stage per environment named in cdk.json (`-c env=dev` picks one).

`cdk synth -c env=dev` runs offline: no lookups, availability zones as Fn::GetAZs, and the
Lambda assets bundle with pip instead of Docker. cdk-nag's AwsSolutions pack runs on every
synth, so an unacknowledged finding stops it.
"""

from __future__ import annotations

import sys
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from cdk_app.config import (
    ConfigError,
    PlatformConfig,
    load_config,
    load_delivery_config,
    read_cdk_context,
)
from cdk_app.delivery import DELIVERY_CONTEXT_FLAG, DeliveryStage
from cdk_app.stage import PlatformStage
from quicksight_templates.loader import DefinitionError

# What the CDK CLI sets for every app, so a synth in tests writes the templates a deploy sees.
# cdk.json turns asset metadata off (it holds local paths), so both agree on that too.
_CLI_DEFAULTS = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": False}


def selected_configs(app: App) -> list[PlatformConfig]:
    """Configs of the environment in context key `env`, or of every environment when unset."""
    context = {key: app.node.try_get_context(key) for key in ("environments", "destroy_data")}
    selected = app.node.try_get_context("env")
    names = [selected] if selected else sorted(context["environments"] or {})
    return [load_config(name, context) for name in names]


def delivery_stage_requested(app: App) -> bool:
    """Only `-c delivery_identity=true` adds the delivery stage, so deploying an environment
    (`<env>/*`) can never touch the deployment identity."""
    return str(app.node.try_get_context(DELIVERY_CONTEXT_FLAG)).lower() == "true"


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with cdk.json's context (feature flags included) under `context`; the CDK CLI's
    own context (cdk.json, -c) still wins, as it does for any CDK app."""
    app = App(
        context={**_CLI_DEFAULTS, **read_cdk_context(), **(context or {})},
        outdir=outdir,
        analytics_reporting=False,  # no AWS::CDK::Metadata: same template from CLI or tests
    )
    for config in selected_configs(app):
        if config.destroy_data:
            print(
                f"WARNING: destroy_data is set for {config.env_name!r}: deleting its stacks"
                " deletes its buckets, database, cluster and keys with all their data.",
                file=sys.stderr,
            )
        PlatformStage(app, config=config)
    if delivery_stage_requested(app):
        keys = ("environments", "delivery", "github_repository")
        DeliveryStage(
            app, config=load_delivery_config({k: app.node.try_get_context(k) for k in keys})
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    try:
        app = build_app()
    except ConfigError as error:
        sys.exit(f"config error: {error}")
    except DefinitionError as error:  # a dashboard definition: file and key path
        sys.exit(f"dashboard definition error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
