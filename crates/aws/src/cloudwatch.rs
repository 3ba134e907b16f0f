//! CloudWatch, for `cfinv status`: the stack's alarms that are in alarm, and the age of a queue's
//! oldest message (a metric only: SQS's own attributes do not give it).

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue};
use cfinv_pipeline::ports::PortError;

use crate::errors::port_error;

/// An alarm in the `ALARM` state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    /// CloudWatch's `StateReason`.
    pub reason: String,
    /// When it went into alarm (RFC 3339), when CloudWatch says.
    pub since: Option<String>,
}

/// The alarms among `names` that are in alarm (DescribeAlarms, 100 names a call).
pub async fn alarms_in_alarm(client: &aws_sdk_cloudwatch::Client, names: &[String]) -> Result<Vec<Alarm>, PortError> {
    let mut out = Vec::new();
    for chunk in names.chunks(100) {
        let page = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .state_value(StateValue::Alarm)
            .send()
            .await
            .map_err(port_error)?;
        // Filtered here too: StateValue is a filter some implementations ignore beside AlarmNames.
        out.extend(page.metric_alarms().iter().filter(|a| a.state_value() == Some(&StateValue::Alarm)).map(|a| {
            Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                reason: a.state_reason().unwrap_or_default().to_owned(),
                since: a.state_updated_timestamp().map(|t| t.to_string()),
            }
        }));
        out.extend(page.composite_alarms().iter().filter(|a| a.state_value() == Some(&StateValue::Alarm)).map(|a| {
            Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                reason: a.state_reason().unwrap_or_default().to_owned(),
                since: a.state_updated_timestamp().map(|t| t.to_string()),
            }
        }));
    }
    Ok(out)
}

/// The latest `ApproximateAgeOfOldestMessage` of a queue in the last 15 minutes, in seconds; `None`
/// when the metric has no data (a queue nothing was sent to lately, or an emulator).
pub async fn oldest_message_age(
    client: &aws_sdk_cloudwatch::Client,
    queue_name: &str,
    now_unix: i64,
) -> Result<Option<f64>, PortError> {
    let metric = Metric::builder()
        .namespace("AWS/SQS")
        .metric_name("ApproximateAgeOfOldestMessage")
        .dimensions(Dimension::builder().name("QueueName").value(queue_name).build())
        .build();
    let query = MetricDataQuery::builder()
        .id("age")
        .metric_stat(MetricStat::builder().metric(metric).period(60).stat("Maximum").build())
        .return_data(true)
        .build();
    let out = client
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(DateTime::from_secs(now_unix - 15 * 60))
        .end_time(DateTime::from_secs(now_unix))
        .scan_by(ScanBy::TimestampDescending)
        .send()
        .await
        .map_err(port_error)?;
    Ok(out.metric_data_results().iter().find(|r| r.id() == Some("age")).and_then(|r| r.values().first().copied()))
}
