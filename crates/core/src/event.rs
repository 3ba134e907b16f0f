//! S3 events, normalised.
//!
//! Objects change in S3 and AWS tells us in one of three shapes: an S3 event notification
//! (`Records[]`), an EventBridge event (`detail-type` `Object Created` / `Object Deleted`), or the
//! `s3:TestEvent` S3 sends once when a notification is configured. All of them become
//! [`ObjectEvent`]s with the key decoded, so nothing downstream ever sees an encoded key.

use crate::path::{decode_event_key, KeyError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What happened to the object, as far as caching is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// `ObjectCreated:*`: new content under the key.
    Created,
    /// `ObjectRemoved:*`, `LifecycleExpiration:Delete*`, EventBridge `Object Deleted`.
    Removed,
    /// An event that leaves the content as it was (restore, tagging, ACL, replication...).
    Unchanged,
    /// The `s3:TestEvent` sent when a notification is configured.
    Test,
}

/// One S3 object event, key decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectEvent {
    pub bucket: String,
    /// The S3 key, decoded (`red flower.jpg`, not `red+flower.jpg`). Empty for a test event.
    pub key: String,
    pub change: Change,
    /// The S3 event name (`ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`, ...);
    /// EventBridge events are given the equivalent name.
    pub event_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// Orders events for the same key (left-padded hex), when S3 sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
}

impl ObjectEvent {
    /// An event as a test or a caller that already knows the change builds it: the S3 event name
    /// is the usual one for the change (`ObjectCreated:Put`, `ObjectRemoved:Delete`), with no time
    /// and no sequencer.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, change: Change) -> Self {
        let event_name = match change {
            Change::Created => "ObjectCreated:Put",
            Change::Removed => "ObjectRemoved:Delete",
            Change::Unchanged => "ObjectRestore:Completed",
            Change::Test => "s3:TestEvent",
        };
        ObjectEvent {
            bucket: bucket.into(),
            key: key.into(),
            change,
            event_name: event_name.to_owned(),
            event_time: None,
            sequencer: None,
        }
    }

    /// Classifies an S3 notification event name (without the `s3:` prefix, as in payloads).
    pub fn change_of(event_name: &str) -> Change {
        let name = event_name.strip_prefix("s3:").unwrap_or(event_name);
        if name.starts_with("ObjectCreated:") {
            Change::Created
        } else if name.starts_with("ObjectRemoved:") || name.starts_with("LifecycleExpiration:Delete") {
            Change::Removed
        } else if name == "TestEvent" {
            Change::Test
        } else {
            Change::Unchanged
        }
    }
}

/// Why an event payload could not be read. Each names the record and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("not an S3 event: expected `Records`, an EventBridge `detail-type` of aws.s3, or `s3:TestEvent`")]
    UnknownShape,
    #[error("record {index}: missing or non-string field `{field}`")]
    MissingField { index: usize, field: &'static str },
    #[error("record {index}: {source}")]
    BadKey {
        index: usize,
        #[source]
        source: KeyError,
    },
    #[error("the payload holds no event")]
    Empty,
}

/// Reads one payload as AWS delivers it: an S3 notification (with any number of records), an
/// EventBridge S3 event, a test event, or a JSON array of those.
pub fn parse_events(payload: &Value) -> Result<Vec<ObjectEvent>, EventError> {
    let mut out = Vec::new();
    let mut index = 0;
    collect(payload, &mut out, &mut index)?;
    if out.is_empty() {
        return Err(EventError::Empty);
    }
    Ok(out)
}

fn collect(v: &Value, out: &mut Vec<ObjectEvent>, index: &mut usize) -> Result<(), EventError> {
    if let Some(items) = v.as_array() {
        for item in items {
            collect(item, out, index)?;
        }
        return Ok(());
    }
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        for record in records {
            out.push(from_record(record, *index)?);
            *index += 1;
        }
        return Ok(());
    }
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        out.push(ObjectEvent {
            bucket: str_at(v, &["Bucket"]).unwrap_or_default().to_owned(),
            key: String::new(),
            change: Change::Test,
            event_name: "s3:TestEvent".to_owned(),
            event_time: str_at(v, &["Time"]).map(str::to_owned),
            sequencer: None,
        });
        *index += 1;
        return Ok(());
    }
    if v.get("detail-type").is_some() && v.get("source").and_then(Value::as_str) == Some("aws.s3") {
        out.push(from_eventbridge(v, *index)?);
        *index += 1;
        return Ok(());
    }
    Err(EventError::UnknownShape)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn required<'a>(v: &'a Value, path: &[&str], index: usize, field: &'static str) -> Result<&'a str, EventError> {
    str_at(v, path).ok_or(EventError::MissingField { index, field })
}

fn decoded_key(raw: &str, index: usize) -> Result<String, EventError> {
    decode_event_key(raw).map_err(|source| EventError::BadKey { index, source })
}

fn from_record(r: &Value, index: usize) -> Result<ObjectEvent, EventError> {
    let event_name = required(r, &["eventName"], index, "eventName")?;
    let bucket = required(r, &["s3", "bucket", "name"], index, "s3.bucket.name")?;
    let raw_key = required(r, &["s3", "object", "key"], index, "s3.object.key")?;
    Ok(ObjectEvent {
        bucket: bucket.to_owned(),
        key: decoded_key(raw_key, index)?,
        change: ObjectEvent::change_of(event_name),
        event_name: event_name.strip_prefix("s3:").unwrap_or(event_name).to_owned(),
        event_time: str_at(r, &["eventTime"]).map(str::to_owned),
        sequencer: str_at(r, &["s3", "object", "sequencer"]).map(str::to_owned),
    })
}

/// EventBridge names the change in `detail-type` and `detail.reason`; we give it the name the
/// same change has in an S3 notification, so users see one vocabulary.
fn from_eventbridge(v: &Value, index: usize) -> Result<ObjectEvent, EventError> {
    let detail_type = required(v, &["detail-type"], index, "detail-type")?;
    let bucket = required(v, &["detail", "bucket", "name"], index, "detail.bucket.name")?;
    let raw_key = required(v, &["detail", "object", "key"], index, "detail.object.key")?;
    let reason = str_at(v, &["detail", "reason"]).unwrap_or("");
    let event_name = match detail_type {
        "Object Created" => match reason {
            "PutObject" => "ObjectCreated:Put".to_owned(),
            // The S3 EventBridge docs spell it "POST Object"; accept the API name too.
            "POST Object" | "PostObject" => "ObjectCreated:Post".to_owned(),
            "CopyObject" => "ObjectCreated:Copy".to_owned(),
            "CompleteMultipartUpload" => "ObjectCreated:CompleteMultipartUpload".to_owned(),
            other => format!("ObjectCreated:{other}"),
        },
        "Object Deleted" => {
            let marker = str_at(v, &["detail", "deletion-type"]) == Some("Delete Marker Created");
            match (reason, marker) {
                ("Lifecycle Expiration", false) => "LifecycleExpiration:Delete".to_owned(),
                ("Lifecycle Expiration", true) => "LifecycleExpiration:DeleteMarkerCreated".to_owned(),
                (_, true) => "ObjectRemoved:DeleteMarkerCreated".to_owned(),
                (_, false) => "ObjectRemoved:Delete".to_owned(),
            }
        }
        other => other.to_owned(),
    };
    let change = match detail_type {
        "Object Created" => Change::Created,
        "Object Deleted" => Change::Removed,
        _ => Change::Unchanged,
    };
    Ok(ObjectEvent {
        bucket: bucket.to_owned(),
        key: decoded_key(raw_key, index)?,
        change,
        event_name,
        event_time: str_at(v, &["time"]).map(str::to_owned),
        sequencer: str_at(v, &["detail", "object", "sequencer"]).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, key: &str) -> Value {
        json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-26T05:00:00.000Z", "eventName": name,
            "s3": {"bucket": {"name": "site", "arn": "arn:aws:s3:::site"},
                   "object": {"key": key, "sequencer": "0055AED6DCD90281E5"}}
        })
    }

    #[test]
    fn notification_records_are_decoded_and_classified() {
        let ev = parse_events(&json!({"Records": [
            record("ObjectCreated:Put", "red+flower.jpg"),
            record("ObjectRemoved:DeleteMarkerCreated", "%ED%95%9C.png"),
            record("ObjectRestore:Completed", "a"),
            record("LifecycleExpiration:Delete", "b"),
        ]}))
        .unwrap();
        assert_eq!(ev[0].key, "red flower.jpg");
        assert_eq!(ev[0].change, Change::Created);
        assert_eq!(ev[0].sequencer.as_deref(), Some("0055AED6DCD90281E5"));
        assert_eq!(ev[1].key, "한.png");
        assert_eq!(ev[1].change, Change::Removed);
        assert_eq!(ev[2].change, Change::Unchanged);
        assert_eq!(ev[3].change, Change::Removed);
    }

    #[test]
    fn eventbridge_events_get_s3_names() {
        let ev = parse_events(&json!({
            "version": "0", "detail-type": "Object Deleted", "source": "aws.s3",
            "time": "2026-11-26T05:00:00Z",
            "detail": {"bucket": {"name": "site"}, "object": {"key": "a+b/c%20d"},
                       "reason": "DeleteObject", "deletion-type": "Delete Marker Created"}
        }))
        .unwrap();
        assert_eq!(ev[0].event_name, "ObjectRemoved:DeleteMarkerCreated");
        assert_eq!(ev[0].change, Change::Removed);
        assert_eq!(ev[0].key, "a b/c d");
    }

    #[test]
    fn test_event_is_recognised() {
        let ev = parse_events(&json!({"Service": "Amazon S3", "Event": "s3:TestEvent",
            "Time": "2026-11-26T05:00:00Z", "Bucket": "site", "RequestId": "x", "HostId": "y"}))
        .unwrap();
        assert_eq!(ev[0].change, Change::Test);
        assert_eq!(ev[0].bucket, "site");
    }

    #[test]
    fn malformed_payloads_name_the_problem() {
        assert_eq!(parse_events(&json!({"foo": 1})), Err(EventError::UnknownShape));
        assert_eq!(parse_events(&json!({"Records": []})), Err(EventError::Empty));
        let mut bad = record("ObjectCreated:Put", "x");
        bad["s3"]["object"].as_object_mut().unwrap().remove("key");
        let err = parse_events(&json!({"Records": [record("ObjectCreated:Put", "ok"), bad]})).unwrap_err();
        assert_eq!(err, EventError::MissingField { index: 1, field: "s3.object.key" });
        assert_eq!(err.to_string(), "record 1: missing or non-string field `s3.object.key`");
        let err = parse_events(&json!({"Records": [record("ObjectCreated:Put", "%C3%28")]})).unwrap_err();
        assert!(matches!(err, EventError::BadKey { index: 0, .. }));
    }

    #[test]
    fn serialises_for_the_queue_and_back() {
        let ev = parse_events(&json!({"Records": [record("ObjectCreated:Copy", "x+y")]})).unwrap();
        let text = serde_json::to_string(&ev[0]).unwrap();
        assert!(text.contains("\"eventName\":\"ObjectCreated:Copy\""), "{text}");
        let back: ObjectEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ev[0]);
    }
}
