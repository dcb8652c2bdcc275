"""A service's share of platform monitoring: alarms that notify the alarm topic and a titled
block of widgets on the platform dashboard. Every stack adds its own through one of these
(MonitoringStack.section), so alarms look and route the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

_GRID_WIDTH = 24
_WIDGET_HEIGHT = 6


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: what to watch, when it fires, and what the on-call should know."""

    construct_id: str
    metric: cw.IMetric
    threshold: float
    comparison: cw.ComparisonOperator
    description: str
    evaluation_periods: int = 3
    treat_missing_data: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING


def _row_width(count: int) -> int:
    return max(6, _GRID_WIDTH // max(count, 1))


class AlarmsAndWidgets(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        title: str,
        alarm_topic: sns.ITopic,
        dashboard: cw.Dashboard,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cw_actions.SnsAction(alarm_topic)
        self._dashboard = dashboard
        self.alarms: list[cw.Alarm] = []
        dashboard.add_widgets(cw.TextWidget(markdown=f"## {title}", width=_GRID_WIDTH, height=1))

    def add_alarms(self, *specs: AlarmSpec) -> list[cw.Alarm]:
        """Create the alarms (alarm and OK notify the topic) and a row showing their state."""
        created = []
        for spec in specs:
            alarm = cw.Alarm(
                self,
                spec.construct_id,
                metric=spec.metric,
                threshold=spec.threshold,
                comparison_operator=spec.comparison,
                evaluation_periods=spec.evaluation_periods,
                treat_missing_data=spec.treat_missing_data,
                alarm_description=spec.description,
            )
            alarm.add_alarm_action(self._action)
            alarm.add_ok_action(self._action)
            created.append(alarm)
        width = _row_width(len(created))
        self._dashboard.add_widgets(
            *(
                cw.AlarmWidget(
                    alarm=alarm,
                    title=spec.description,
                    width=width,
                    height=_WIDGET_HEIGHT,
                )
                for alarm, spec in zip(created, specs, strict=True)
            )
        )
        self.alarms.extend(created)
        return created

    def add_graphs(self, graphs: Mapping[str, Sequence[cw.IMetric]]) -> None:
        """One row of line graphs, titled by the mapping's keys."""
        width = _row_width(len(graphs))
        self._dashboard.add_widgets(
            *(
                cw.GraphWidget(title=title, left=list(metrics), width=width, height=_WIDGET_HEIGHT)
                for title, metrics in graphs.items()
            )
        )
