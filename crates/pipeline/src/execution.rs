//! Execution names: the one value every function of a run carries.
//!
//! Step Functions names executions with letters, digits, `-` and `_` (at most 80 characters), and
//! cfinv puts the name into S3 keys (`plans/{execution}/...`), CallerReferences and error file
//! seeds. An [`ExecutionName`] can only hold a name that is safe in all of them, so a handler never
//! checks one by hand: a payload with anything else does not deserialise (`InvalidInput`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Step Functions execution name: 1-80 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExecutionName(String);

/// A name that is not an [`ExecutionName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("execution name {0:?} must be 1-80 letters, digits, - or _")]
pub struct BadExecutionName(pub String);

impl ExecutionName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExecutionName {
    type Error = BadExecutionName;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        let ok = !name.is_empty()
            && name.len() <= 80
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(ExecutionName(name))
        } else {
            Err(BadExecutionName(name))
        }
    }
}

impl TryFrom<&str> for ExecutionName {
    type Error = BadExecutionName;

    fn try_from(name: &str) -> Result<Self, Self::Error> {
        ExecutionName::try_from(name.to_owned())
    }
}

impl From<ExecutionName> for String {
    fn from(name: ExecutionName) -> String {
        name.0
    }
}

impl fmt::Display for ExecutionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ExecutionName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_safe_in_keys_and_references() {
        assert!(ExecutionName::try_from("cfinv-10s-20261126T054010Z").is_ok());
        for bad in ["", "bad/name", "a b", "../x", &"x".repeat(81), "é"] {
            assert!(ExecutionName::try_from(bad).is_err(), "{bad:?}");
        }
        let parsed: Result<ExecutionName, _> = serde_json::from_str("\"bad/name\"");
        assert!(parsed.unwrap_err().to_string().contains("must be 1-80 letters"));
    }
}
