//! S3 events, normalised.
//!
//! Objects change in S3 and AWS tells us in one of three shapes: an S3 event notification
//! (`Records[]`), an EventBridge event (`detail-type` `Object Created` / `Object Deleted`), or the
//! `s3:TestEvent` S3 sends once when a notification is configured. All of them become
//! [`ObjectEvent`]s with the key decoded, so nothing downstream ever sees an encoded key.

use std::borrow::Cow;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::path::{decode_event_key, KeyError};

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
    /// The object version the event concerns, in a versioned bucket (`s3.object.versionId`,
    /// EventBridge `detail.object.version-id`); `None` (or S3's `"null"`) otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
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
            version_id: None,
        }
    }

    /// What an S3 event name and version id change, as far as caching is concerned. A lifecycle
    /// expiration that names a version (`LifecycleExpiration:Delete` with a version id) removes a
    /// noncurrent version permanently (S3 guide, "Configuring Lifecycle event notifications"): what
    /// CloudFront serves, the current version, did not change.
    pub fn change_of_version(event_name: &str, version_id: Option<&str>) -> Change {
        let name = event_name.strip_prefix("s3:").unwrap_or(event_name);
        let versioned = version_id.is_some_and(|v| !v.is_empty() && v != "null");
        if name == "LifecycleExpiration:Delete" && versioned {
            return Change::Unchanged;
        }
        ObjectEvent::change_of(name)
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
    #[error("not valid JSON: {0}")]
    NotJson(String),
}

/// Reads one payload as AWS delivers it: an S3 notification (with any number of records), an
/// EventBridge S3 event, a test event, or a JSON array of those. A payload of that shape with no
/// event in it (`{"Records": []}`, `[]`) is valid and reads as none; a payload of another shape is
/// an error.
pub fn parse_events(payload: &Value) -> Result<Vec<ObjectEvent>, EventError> {
    let payloads = Payloads::deserialize(payload).map_err(|_| EventError::UnknownShape)?;
    events_of(payloads)
}

/// The same as [`parse_events`], from the JSON text (a file, a queue message), without building
/// a `serde_json::Value` first; invalid JSON is [`EventError::NotJson`].
pub fn parse_events_json(text: &str) -> Result<Vec<ObjectEvent>, EventError> {
    let payloads: Payloads = serde_json::from_str(text).map_err(|e| EventError::NotJson(e.to_string()))?;
    events_of(payloads)
}

fn events_of(payloads: Payloads<'_>) -> Result<Vec<ObjectEvent>, EventError> {
    let mut out = Vec::new();
    for payload in payloads.0 {
        payload.into_events(&mut out)?;
    }
    Ok(out)
}

// The payload as typed structs. Every field is read the way `Value::get(..).as_str()` reads it: a
// string is kept, any other JSON value counts as absent, so that a record with an odd field is
// reported by its index and field (`MissingField`) instead of failing the whole payload.

/// The payloads of a document, nested arrays flattened, in order.
struct Payloads<'a>(Vec<Payload<'a>>);

/// One JSON object of a document, or something else (which is not an S3 event).
enum Payload<'a> {
    Object(Box<PayloadObject<'a>>),
    Other,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PayloadObject<'a> {
    #[serde(rename = "Records", borrow)]
    records: Seq<Record<'a>>,
    #[serde(rename = "Event", borrow)]
    test_event: Text<'a>,
    #[serde(rename = "Bucket", borrow)]
    test_bucket: Text<'a>,
    #[serde(rename = "Time", borrow)]
    test_time: Text<'a>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Text<'a>,
    #[serde(borrow)]
    source: Text<'a>,
    #[serde(borrow)]
    time: Text<'a>,
    #[serde(borrow)]
    detail: Obj<Detail<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Record<'a> {
    #[serde(borrow)]
    event_name: Text<'a>,
    #[serde(borrow)]
    event_time: Text<'a>,
    #[serde(borrow)]
    s3: Obj<S3Entity<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct S3Entity<'a> {
    #[serde(borrow)]
    bucket: Obj<Named<'a>>,
    #[serde(borrow)]
    object: Obj<S3Object<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named<'a> {
    #[serde(borrow)]
    name: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct S3Object<'a> {
    #[serde(borrow)]
    key: Text<'a>,
    #[serde(borrow)]
    sequencer: Text<'a>,
    /// `versionId` in notifications, `version-id` in EventBridge events.
    #[serde(rename = "versionId", alias = "version-id", borrow)]
    version_id: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Detail<'a> {
    #[serde(borrow)]
    bucket: Obj<Named<'a>>,
    #[serde(borrow)]
    object: Obj<S3Object<'a>>,
    #[serde(borrow)]
    reason: Text<'a>,
    #[serde(rename = "deletion-type", borrow)]
    deletion_type: Text<'a>,
}

/// A string field: `Some` only when the JSON value is a string.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

/// An object field: `Some` only when the JSON value is an object.
struct Obj<T>(Option<T>);

/// An array field: `Some` only when the JSON value is an array.
struct Seq<T>(Option<Vec<T>>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq(None)
    }
}

impl<'a> Text<'a> {
    fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<T> Obj<T> {
    fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

/// Visits any JSON value: strings, objects and arrays each go to their own handler; anything else
/// (numbers, booleans, null) is read past and gives the default.
macro_rules! visit_scalars_as_default {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            visit_scalars_as_default!();
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Obj(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Obj(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Obj(None))
            }
            visit_scalars_as_default!();
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
            type Value = Seq<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(item) = seq.next_element::<Obj<T>>()? {
                    // A record that is not an object is read as an empty one: it then names the
                    // first field it lacks.
                    out.push(item.0.unwrap_or_default());
                }
                Ok(Seq(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Seq(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Seq(None))
            }
            visit_scalars_as_default!();
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Payloads<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Payloads<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an S3 event payload or an array of them")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let object = PayloadObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Payloads(vec![Payload::Object(Box::new(object))]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(inner) = seq.next_element::<Payloads<'a>>()? {
                    out.extend(inner.0);
                }
                Ok(Payloads(out))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Payloads(vec![Payload::Other]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Payload<'_> {
    /// The events of one payload, appended to `out` (whose length is the running record index).
    fn into_events(self, out: &mut Vec<ObjectEvent>) -> Result<(), EventError> {
        let Payload::Object(p) = self else {
            return Err(EventError::UnknownShape);
        };
        if let Some(records) = p.records.0 {
            for record in records {
                let index = out.len();
                out.push(from_record(&record, index)?);
            }
            return Ok(());
        }
        if p.test_event.get() == Some("s3:TestEvent") {
            out.push(ObjectEvent {
                bucket: p.test_bucket.get().unwrap_or_default().to_owned(),
                key: String::new(),
                change: Change::Test,
                event_name: "s3:TestEvent".to_owned(),
                event_time: p.test_time.get().map(str::to_owned),
                sequencer: None,
                version_id: None,
            });
            return Ok(());
        }
        if p.detail_type.get().is_some() && p.source.get() == Some("aws.s3") {
            let index = out.len();
            out.push(from_eventbridge(&p, index)?);
            return Ok(());
        }
        Err(EventError::UnknownShape)
    }
}

fn required<'a>(field: &'a Text<'_>, index: usize, name: &'static str) -> Result<&'a str, EventError> {
    field.get().ok_or(EventError::MissingField { index, field: name })
}

fn decoded_key(raw: &str, index: usize) -> Result<String, EventError> {
    decode_event_key(raw).map_err(|source| EventError::BadKey { index, source })
}

fn from_record(r: &Record<'_>, index: usize) -> Result<ObjectEvent, EventError> {
    static NONE: Text<'static> = Text(None);
    let s3 = r.s3.get();
    let object = s3.and_then(|s| s.object.get());
    let event_name = required(&r.event_name, index, "eventName")?;
    let bucket = required(s3.and_then(|s| s.bucket.get()).map_or(&NONE, |b| &b.name), index, "s3.bucket.name")?;
    let raw_key = required(object.map_or(&NONE, |o| &o.key), index, "s3.object.key")?;
    let version_id = object.and_then(|o| o.version_id.get());
    Ok(ObjectEvent {
        bucket: bucket.to_owned(),
        key: decoded_key(raw_key, index)?,
        change: ObjectEvent::change_of_version(event_name, version_id),
        event_name: event_name.strip_prefix("s3:").unwrap_or(event_name).to_owned(),
        event_time: r.event_time.get().map(str::to_owned),
        sequencer: object.and_then(|o| o.sequencer.get()).map(str::to_owned),
        version_id: version_id.map(str::to_owned),
    })
}

/// EventBridge names the change in `detail-type` and `detail.reason`; we give it the name the
/// same change has in an S3 notification, so users see one vocabulary.
fn from_eventbridge(v: &PayloadObject<'_>, index: usize) -> Result<ObjectEvent, EventError> {
    static NONE: Text<'static> = Text(None);
    let detail = v.detail.get();
    let object = detail.and_then(|d| d.object.get());
    let detail_type = required(&v.detail_type, index, "detail-type")?;
    let bucket = required(detail.and_then(|d| d.bucket.get()).map_or(&NONE, |b| &b.name), index, "detail.bucket.name")?;
    let raw_key = required(object.map_or(&NONE, |o| &o.key), index, "detail.object.key")?;
    let reason = detail.and_then(|d| d.reason.get()).unwrap_or("");
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
            let marker = detail.and_then(|d| d.deletion_type.get()) == Some("Delete Marker Created");
            match (reason, marker) {
                ("Lifecycle Expiration", false) => "LifecycleExpiration:Delete".to_owned(),
                ("Lifecycle Expiration", true) => "LifecycleExpiration:DeleteMarkerCreated".to_owned(),
                (_, true) => "ObjectRemoved:DeleteMarkerCreated".to_owned(),
                (_, false) => "ObjectRemoved:Delete".to_owned(),
            }
        }
        other => other.to_owned(),
    };
    let version_id = object.and_then(|o| o.version_id.get());
    let change = match detail_type {
        "Object Created" => Change::Created,
        "Object Deleted" => ObjectEvent::change_of_version(&event_name, version_id),
        _ => Change::Unchanged,
    };
    Ok(ObjectEvent {
        bucket: bucket.to_owned(),
        key: decoded_key(raw_key, index)?,
        change,
        event_name,
        event_time: v.time.get().map(str::to_owned),
        sequencer: object.and_then(|o| o.sequencer.get()).map(str::to_owned),
        version_id: version_id.map(str::to_owned),
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
    fn a_lifecycle_expiration_of_a_noncurrent_version_changes_nothing() {
        let mut old = record("LifecycleExpiration:Delete", "a.html");
        old["s3"]["object"]["versionId"] = json!("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
        let mut unversioned = record("LifecycleExpiration:Delete", "b.html");
        unversioned["s3"]["object"]["versionId"] = json!("null");
        let current = record("LifecycleExpiration:DeleteMarkerCreated", "c.html");
        let ev = parse_events(&json!({"Records": [old, unversioned, current]})).unwrap();
        assert_eq!(ev[0].change, Change::Unchanged);
        assert_eq!(ev[0].version_id.as_deref(), Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"));
        assert_eq!(ev[1].change, Change::Removed, "S3's \"null\" version is the object itself");
        assert_eq!(ev[2].change, Change::Removed);
        let eb = parse_events(&json!({
            "version": "0", "detail-type": "Object Deleted", "source": "aws.s3",
            "detail": {"bucket": {"name": "site"}, "object": {"key": "d.html", "version-id": "v2"},
                       "reason": "Lifecycle Expiration", "deletion-type": "Permanently Deleted"}
        }))
        .unwrap();
        assert_eq!((eb[0].event_name.as_str(), eb[0].change), ("LifecycleExpiration:Delete", Change::Unchanged));
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
        assert_eq!(parse_events(&json!([{"foo": 1}])), Err(EventError::UnknownShape));
        assert_eq!(parse_events(&json!({"Records": {}})), Err(EventError::UnknownShape));
        assert_eq!(parse_events(&json!(null)), Err(EventError::UnknownShape));
        let mut bad = record("ObjectCreated:Put", "x");
        bad["s3"]["object"].as_object_mut().unwrap().remove("key");
        let err = parse_events(&json!({"Records": [record("ObjectCreated:Put", "ok"), bad]})).unwrap_err();
        assert_eq!(err, EventError::MissingField { index: 1, field: "s3.object.key" });
        assert_eq!(err.to_string(), "record 1: missing or non-string field `s3.object.key`");
        let err = parse_events(&json!({"Records": [record("ObjectCreated:Put", "%C3%28")]})).unwrap_err();
        assert!(matches!(err, EventError::BadKey { index: 0, .. }));
    }

    #[test]
    fn valid_payloads_without_events_read_as_none() {
        // A notification's `Records` is an array (S3 guide, "Event message structure"); an empty
        // one, and an empty array of payloads, hold no event but are not malformed.
        for empty in [json!({"Records": []}), json!([]), json!([[], {"Records": []}])] {
            assert_eq!(parse_events(&empty), Ok(Vec::new()), "{empty}");
            assert_eq!(parse_events_json(&empty.to_string()), Ok(Vec::new()), "{empty}");
        }
        assert!(matches!(parse_events_json(""), Err(EventError::NotJson(_))), "an empty file is not JSON");
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
