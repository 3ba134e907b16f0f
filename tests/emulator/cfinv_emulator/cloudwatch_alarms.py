"""CloudWatch alarms a test can drive: moto never evaluates an alarm against metric data, so a test
sets its state with SetAlarmState (AWS's own API for testing alarms, which moto has). moto's
SetAlarmState changes the state but runs no action; AWS runs the actions of the new state when the
state changes. Here a change of state publishes AWS's alarm message (JSON: AlarmName,
AlarmDescription, AWSAccountId, NewStateValue, NewStateReason, StateChangeTime, Region, AlarmArn,
OldStateValue, Trigger) to every SNS topic among the new state's actions (AlarmActions, OKActions,
InsufficientDataActions), with the subject AWS uses ('ALARM: "name" in US East (N. Virginia)'),
when ActionsEnabled. A new alarm starts in INSUFFICIENT_DATA, as on AWS (moto: OK).
"""

import datetime
import json
import sys

from moto.cloudwatch import models as cw_models

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
}

_original_set_alarm_state = None
_original_put_metric_alarm = None


def alarm_message(alarm, account_id, region_name, old_state):
    when = alarm.state_updated_timestamp
    if isinstance(when, datetime.datetime):
        when = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": str(getattr(alarm, "configuration_updated_timestamp", "")),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": when,
        "Region": REGION_NAMES.get(region_name, region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": (alarm.statistic or "").upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
        },
    }


def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
    old_state = self.alarms[alarm_name].state_value if alarm_name in self.alarms else None
    _original_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    alarm = self.alarms[alarm_name]
    if old_state == state_value or not alarm.actions_enabled:
        return
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[state_value] or []
    message = json.dumps(alarm_message(alarm, self.account_id, self.region_name, old_state))
    subject = f'{state_value}: "{alarm.name}" in {REGION_NAMES.get(self.region_name, self.region_name)}'[:100]
    from moto.sns.models import sns_backends

    for arn in actions:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "sns":
            continue  # Auto Scaling, EC2 and Systems Manager actions are not run
        try:
            sns_backends[parts[4]][parts[3]].publish(message=message, arn=arn, subject=subject)
        except Exception as e:  # noqa: BLE001 - as on AWS, a failed action does not fail SetAlarmState
            print(f"emulator: alarm {alarm.name}: action {arn} failed: {e!r}", file=sys.stderr, flush=True)


def put_metric_alarm(self, name, *args, **kwargs):
    new = name not in self.alarms
    alarm = _original_put_metric_alarm(self, name, *args, **kwargs)
    if new:
        alarm.state_value = "INSUFFICIENT_DATA"
    return alarm


def install():
    global _original_set_alarm_state, _original_put_metric_alarm
    backend = cw_models.CloudWatchBackend
    if backend.set_alarm_state is not set_alarm_state:
        _original_set_alarm_state = backend.set_alarm_state
        backend.set_alarm_state = set_alarm_state
    if backend.put_metric_alarm is not put_metric_alarm:
        _original_put_metric_alarm = backend.put_metric_alarm
        backend.put_metric_alarm = put_metric_alarm
