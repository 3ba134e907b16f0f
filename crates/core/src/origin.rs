//! Which origins serve a bucket, and under which viewer path they serve a key.
//!
//! An origin names its bucket only through its domain name, and S3 answers at several: the REST
//! endpoints (`b.s3.amazonaws.com`, `b.s3.us-east-1.amazonaws.com`, `b.s3-us-east-1.amazonaws.com`,
//! `b.s3.dualstack.us-east-1.amazonaws.com`) and the website endpoints, which CloudFront treats as
//! custom origins but which still serve the bucket's objects (`b.s3-website-us-east-1...`,
//! `b.s3-website.eu-central-1...`). Bucket names may contain dots, so the bucket is everything left
//! of the S3 service label, and it must equal the bucket exactly (never a prefix).

/// Which kind of S3 endpoint an origin uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    Rest,
    Website,
}

/// The bucket an origin domain points at, if it is an S3 endpoint.
///
/// ```
/// use cfinv_core::origin::{bucket_of_domain, EndpointKind::*};
/// assert_eq!(bucket_of_domain("assets.example.com.s3.eu-west-1.amazonaws.com"),
///            Some(("assets.example.com".to_owned(), Rest)));
/// assert_eq!(bucket_of_domain("site.s3-website-us-east-1.amazonaws.com"),
///            Some(("site".to_owned(), Website)));
/// assert_eq!(bucket_of_domain("api.example.com"), None);
/// ```
pub fn bucket_of_domain(domain: &str) -> Option<(String, EndpointKind)> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let rest = domain.strip_suffix(".amazonaws.com").or_else(|| domain.strip_suffix(".amazonaws.com.cn"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    // The right-most S3 service label whose tail is a valid endpoint form; everything left of it
    // is the bucket (a bucket may itself contain a label such as `s3`).
    for i in (1..labels.len()).rev() {
        if let Some(kind) = endpoint_form(labels[i], &labels[i + 1..]) {
            let bucket = labels[..i].join(".");
            return (!bucket.is_empty()).then_some((bucket, kind));
        }
    }
    None
}

/// Recognises `service` followed by `tail` as an S3 endpoint form.
fn endpoint_form(service: &str, tail: &[&str]) -> Option<EndpointKind> {
    match (service, tail) {
        ("s3", []) | ("s3-accelerate", []) | ("s3-external-1", []) => Some(EndpointKind::Rest),
        ("s3", [region]) if is_region(region) => Some(EndpointKind::Rest),
        ("s3", ["dualstack", region]) if is_region(region) => Some(EndpointKind::Rest),
        ("s3-website", [region]) if is_region(region) => Some(EndpointKind::Website),
        (s, []) if s.strip_prefix("s3-website-").is_some_and(is_region) => Some(EndpointKind::Website),
        (s, []) if s.strip_prefix("s3-").is_some_and(is_region) => Some(EndpointKind::Rest),
        _ => None,
    }
}

/// `us-east-1`, `ap-northeast-2`, `us-gov-west-1`, `cn-north-1`: letters and dashes ending in a
/// number, at least one dash.
fn is_region(s: &str) -> bool {
    let Some((head, num)) = s.rsplit_once('-') else {
        return false;
    };
    !head.is_empty()
        && head.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// The key prefix an OriginPath adds (`/production` → `production/`; `""` or `/` → `""`).
pub fn key_prefix(origin_path: &str) -> String {
    let trimmed = origin_path.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

/// The viewer path under which an origin with this key prefix serves `key`: `/` + the key with the
/// prefix removed, or `None` when the key lies outside the OriginPath.
///
/// ```
/// use cfinv_core::origin::{key_prefix, viewer_path};
/// assert_eq!(viewer_path(&key_prefix("/production"), "production/acme/index.html"),
///            Some("/acme/index.html".to_owned()));
/// assert_eq!(viewer_path(&key_prefix("/production"), "staging/index.html"), None);
/// ```
pub fn viewer_path(key_prefix: &str, key: &str) -> Option<String> {
    key.strip_prefix(key_prefix).map(|rest| format!("/{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use EndpointKind::*;

    fn b(d: &str) -> Option<(String, EndpointKind)> {
        bucket_of_domain(d)
    }

    #[test]
    fn every_s3_endpoint_form() {
        let rest = |s: &str| Some((s.to_owned(), Rest));
        let web = |s: &str| Some((s.to_owned(), Website));
        assert_eq!(b("logs.s3.amazonaws.com"), rest("logs"));
        assert_eq!(b("logs.s3.us-east-1.amazonaws.com"), rest("logs"));
        assert_eq!(b("logs.s3.dualstack.ap-northeast-2.amazonaws.com"), rest("logs"));
        assert_eq!(b("logs.s3-eu-west-1.amazonaws.com"), rest("logs"));
        assert_eq!(b("logs.s3-external-1.amazonaws.com"), rest("logs"));
        assert_eq!(b("logs.s3.cn-north-1.amazonaws.com.cn"), rest("logs"));
        assert_eq!(b("logs.s3-website-us-east-1.amazonaws.com"), web("logs"));
        assert_eq!(b("logs.s3-website.eu-central-1.amazonaws.com"), web("logs"));
        assert_eq!(b("LOGS.S3.AMAZONAWS.COM."), rest("logs"));
    }

    #[test]
    fn dotted_bucket_names_and_whole_labels() {
        assert_eq!(b("www.example.com.s3.amazonaws.com"), Some(("www.example.com".into(), Rest)));
        assert_eq!(b("my.s3.s3.amazonaws.com"), Some(("my.s3".into(), Rest)));
        assert_eq!(b("logs-archive.s3.amazonaws.com"), Some(("logs-archive".into(), Rest)));
        assert_eq!(b("s3.amazonaws.com"), None);
        assert_eq!(b("example.com"), None);
        assert_eq!(b("elb.us-east-1.elb.amazonaws.com"), None);
        assert_eq!(b("x.s3-website-nowhere.amazonaws.com"), None);
    }

    #[test]
    fn origin_paths() {
        assert_eq!(key_prefix(""), "");
        assert_eq!(key_prefix("/"), "");
        assert_eq!(key_prefix("/production"), "production/");
        assert_eq!(key_prefix("/a/b/"), "a/b/");
        assert_eq!(viewer_path("", "x/y.jpg").as_deref(), Some("/x/y.jpg"));
        assert_eq!(viewer_path("prod/", "prod/x.jpg").as_deref(), Some("/x.jpg"));
        assert_eq!(viewer_path("prod/", "production/x.jpg"), None);
        assert_eq!(viewer_path("prod/", "prod"), None);
    }
}
