//! The account as a planner sees it: every page of ListDistributions (staging distributions
//! included: their summaries say `Staging: true`), the custom cache policies their behaviors name
//! (GetCachePolicy), the `cfinv:*` tags, `DefaultRootObject` and `CacheTagConfig` of the
//! distributions that reach an S3 bucket (ListTagsForResource, GetDistributionConfig), the
//! distribution tenants of every multi-tenant distribution with their parameters
//! (ListDistributionTenants, GetDistributionTenant; their origins may reach a bucket only once a
//! tenant's parameters fill them, so every multi-tenant distribution is read), and the index document
//! of every bucket reached through a website endpoint (GetBucketWebsite), compiled into a
//! [`Planner`]. Collect plans every run with it; `cfinv explain` and `cfinv plan --live`
//! answer operators' questions with the very same planner.
//!
//! Tags and website configurations that cannot be read are logged, returned as warnings, and left
//! out: the distribution takes the stack's policy, the bucket `index.html`. Only a failure to list
//! the distributions, or to read a cache policy for a reason that may pass, is an error.

use std::collections::HashMap;

use cfinv_core::origin::{bucket_of_domain, EndpointKind};
use cfinv_core::plan::Planner;
use cfinv_core::{
    CachePolicies, Distribution, DistributionTenant, ExceptionPaths, Exceptions, ObjectEvent, ObjectMetadata,
    PlanOptions, TtlSettings,
};
use tracing::{info, warn};

use crate::ingest::EXCEPTION_PATHS_TAG;
use crate::ports::{Buckets, CloudFront, ErrorKind, Objects, PortError};

/// A planner of the account's distributions, and what could not be read for it.
#[derive(Debug)]
pub struct Live {
    pub planner: Planner,
    /// How many distributions were listed (and compiled).
    pub distributions: usize,
    /// One line per problem, naming the distribution, policy or bucket; the planner's own warnings
    /// (odd configurations) included.
    pub warnings: Vec<String>,
}

/// Lists the account's distributions and compiles them with `options`.
pub async fn planner<C: CloudFront, B: Buckets>(
    cloudfront: &C,
    buckets: &B,
    options: PlanOptions,
) -> Result<Live, PortError> {
    let mut warnings = Vec::new();
    let listed = cloudfront.list_distributions().await?;
    for s in &listed.skipped {
        warn!(problem = %s, "distribution skipped");
        warnings.push(s.clone());
    }
    let policies = cache_policies(cloudfront, &listed.distributions, &mut warnings).await?;
    let mut distributions = listed.distributions;
    let reaches_s3 =
        |d: &Distribution| d.multi_tenant || d.origins.iter().any(|o| bucket_of_domain(&o.domain_name).is_some());
    let mut tenants: Vec<DistributionTenant> = Vec::new();
    for d in distributions.iter_mut().filter(|d| reaches_s3(d)) {
        if !d.arn.is_empty() {
            match cloudfront.distribution_tags(&d.arn).await {
                Ok(tags) => d.tags = tags,
                Err(e) => {
                    warn!(distribution = %d.id, error = %e, "cannot read the distribution's tags; using the stack's policy");
                    warnings
                        .push(format!("distribution {}: cannot read its tags ({e}); the default policy applies", d.id));
                }
            }
        }
        match cloudfront.distribution_details(&d.id).await {
            Ok(details) => {
                d.default_root_object = details.default_root_object;
                d.cache_tag_header = details.cache_tag_header;
                d.parameter_defaults = details.parameter_defaults;
            }
            Err(e) => {
                warn!(distribution = %d.id, error = %e, "cannot read the distribution's config; planning without its default root object, cache tags and parameter defaults");
                warnings.push(format!(
                    "distribution {}: cannot read its config ({e}); planned without its default root object, cache tags and parameter defaults",
                    d.id
                ));
            }
        }
        if d.multi_tenant {
            match cloudfront.distribution_tenants(&d.id).await {
                Ok(found) => tenants.extend(found),
                // A distribution whose tenants cannot be read is planned for none of them, and
                // said so: every change it serves is then skipped `no-origin` in the plan, never
                // silently invalidated on the wrong target.
                Err(e) if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::NotFound) => {
                    warn!(distribution = %d.id, error = %e, "cannot list the distribution's tenants");
                    warnings.push(format!("distribution {}: cannot list its distribution tenants ({e})", d.id));
                }
                Err(e) => return Err(e),
            }
        }
    }
    let index_documents = index_documents(buckets, &distributions, &mut warnings).await;
    let planner = Planner::with_tenants(&distributions, &policies, options, &index_documents, &tenants);
    for w in planner.warnings() {
        warn!(distribution = %w.distribution_id, "{}", w.message);
        warnings.push(format!("distribution {}: {}", w.distribution_id, w.message));
    }
    info!(distributions = distributions.len(), "listed distributions");
    Ok(Live { planner, distributions: distributions.len(), warnings })
}

/// The S3 metadata of the created objects among `events` whose bucket a distribution sent cache
/// tags reaches ([`Planner::wants_object_metadata`]): HeadObject once per key. An object removed
/// since has no metadata (its paths are sent); one that cannot be read is a warning, and its paths
/// are sent: a missing tag costs a stale page, never a lost invalidation of the key itself.
pub async fn object_metadata<O: Objects>(
    objects: &O,
    planner: &Planner,
    events: &[ObjectEvent],
    warnings: &mut Vec<String>,
) -> ObjectMetadata {
    let mut wanted: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e.change == cfinv_core::Change::Created && planner.wants_object_metadata(&e.bucket))
        .map(|e| (e.bucket.as_str(), e.key.as_str()))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = ObjectMetadata::new();
    for (bucket, key) in wanted {
        match objects.metadata(bucket, key).await {
            Ok(Some(m)) => out.insert(bucket, key, m),
            Ok(None) => {}
            Err(e) => {
                warn!(bucket, key, error = %e, "cannot read the object's metadata; its cache tags are not sent");
                warnings.push(format!(
                    "object {bucket}/{key}: cannot read its metadata ({e}); its cache tags are not sent"
                ));
            }
        }
    }
    if !out.is_empty() {
        info!(objects = out.len(), "read the cache tags of created objects");
    }
    out
}

/// The managed policies, and every custom one the distributions' behaviors name.
async fn cache_policies<C: CloudFront>(
    cloudfront: &C,
    distributions: &[Distribution],
    warnings: &mut Vec<String>,
) -> Result<CachePolicies, PortError> {
    let mut policies = CachePolicies::managed();
    let mut custom: Vec<&str> = distributions
        .iter()
        .flat_map(|d| d.behaviors.iter().chain(std::iter::once(&d.default_behavior)))
        .filter_map(|b| match &b.ttl {
            TtlSettings::Policy { id } if policies.get(id).is_none() => Some(id.as_str()),
            _ => None,
        })
        .collect();
    custom.sort_unstable();
    custom.dedup();
    for id in custom {
        match cloudfront.cache_policy(id).await {
            Ok(Some(p)) => policies.insert(p),
            Ok(None) => {
                warn!(policy = id, "cache policy not found; assuming it caches");
                warnings.push(format!("cache policy {id}: not found; assumed to cache"));
            }
            // A policy we may not read (an AWS-managed one newer than our list, or a narrower
            // role) is assumed to cache, as an unknown one is: invalidating too much costs a
            // little, failing the whole run would invalidate nothing.
            Err(e) if matches!(e.kind, ErrorKind::AccessDenied | ErrorKind::NotFound | ErrorKind::InvalidArgument) => {
                warn!(policy = id, error = %e, "cannot read the cache policy; assuming it caches");
                warnings.push(format!("cache policy {id}: cannot read it ({e}); assumed to cache"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(policies)
}

/// The index document of every bucket a website endpoint reaches, where it has one.
async fn index_documents<B: Buckets>(
    buckets: &B,
    distributions: &[Distribution],
    warnings: &mut Vec<String>,
) -> HashMap<String, String> {
    let mut websites: Vec<String> = distributions
        .iter()
        .flat_map(|d| &d.origins)
        .filter_map(|o| bucket_of_domain(&o.domain_name))
        .filter(|(_, kind)| *kind == EndpointKind::Website)
        .map(|(bucket, _)| bucket)
        .collect();
    websites.sort_unstable();
    websites.dedup();
    let mut index_documents = HashMap::new();
    for bucket in websites {
        match buckets.index_document(&bucket).await {
            Ok(Some(name)) => {
                index_documents.insert(bucket, name);
            }
            Ok(None) => {}
            Err(e) => {
                info!(bucket, error = %e, "cannot read the bucket's website configuration; its index document is taken to be index.html");
                warnings.push(format!(
                    "bucket {bucket}: cannot read its website configuration ({e}); index document taken to be index.html"
                ));
            }
        }
    }
    index_documents
}

/// The `exceptionPaths` of each bucket, as ingest reads them: the bucket's tag, else `default`
/// (the stack's `DefaultExceptionPaths`). A tag that cannot be read counts as none, as in ingest,
/// and is named in the warnings.
pub async fn exceptions<B: Buckets>(
    buckets: &B,
    names: &[&str],
    default: &ExceptionPaths,
    warnings: &mut Vec<String>,
) -> Exceptions {
    let mut out = Exceptions::new();
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    for bucket in names {
        match buckets.tag(bucket, EXCEPTION_PATHS_TAG).await {
            Ok(Some(value)) => out.insert(bucket, ExceptionPaths::parse(&value)),
            Ok(None) => out.insert(bucket, default.clone()),
            Err(e) => warnings.push(format!(
                "bucket {bucket}: cannot read its {EXCEPTION_PATHS_TAG} tag ({e}); ingest treats it as having none"
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeCloudFront, FakeObjects, FakeTags};
    use cfinv_core::{CacheBehavior, CachePolicy, Change, ObjectEvent, Origin};

    fn site(id: &str, domain: &str, default_policy: &str) -> Distribution {
        Distribution {
            id: id.into(),
            arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
            origins: vec![Origin { id: "s3".into(), domain_name: domain.into(), origin_path: String::new() }],
            default_behavior: CacheBehavior::with_policy("*", "s3", default_policy),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn compiles_policies_tags_root_objects_and_index_documents() {
        let mut rest = site("E1", "site.s3.amazonaws.com", "custom-qs");
        rest.default_root_object = Some("home.html".into());
        let web = site("E2", "site.s3-website-us-east-1.amazonaws.com", "658327ea-f89d-4fab-a63d-7e88639e58f6");
        let cf = FakeCloudFront {
            distributions: vec![rest, web],
            policies: vec![CachePolicy::from_fields("custom-qs".into(), "qs".into(), Some(0), Some(60), Some(600))
                .with_query_string_behavior(Some("all"))],
            tags: [(
                "arn:aws:cloudfront::123456789012:distribution/E1".to_owned(),
                [("cfinv:policy".to_owned(), "exact".to_owned())].into(),
            )]
            .into(),
            ..Default::default()
        };
        let objects = FakeObjects::default();
        objects.index_documents.lock().unwrap().insert("site".into(), "default.htm".into());
        let live = planner(&cf, &objects, PlanOptions::default()).await.unwrap();
        assert_eq!(live.distributions, 2);
        assert!(live.warnings.is_empty(), "{:?}", live.warnings);
        let events = [
            ObjectEvent::new("site", "home.html", Change::Created),
            ObjectEvent::new("site", "docs/default.htm", Change::Created),
        ];
        let plan = live.planner.plan(&events, &Exceptions::new());
        let items = |id: &str| -> Vec<String> {
            plan.invalidations
                .iter()
                .find(|d| &*d.distribution_id == id)
                .unwrap()
                .items
                .iter()
                .map(|i| i.to_string())
                .collect()
        };
        // The custom policy's query strings, and the default root object at /.
        assert_eq!(items("E1"), ["/", "/docs/default.htm*", "/home.html*"]);
        // The bucket's own index document, at its directory.
        assert_eq!(items("E2"), ["/docs", "/docs/", "/docs/default.htm", "/home.html"]);
    }

    #[tokio::test]
    async fn what_cannot_be_read_is_a_warning_not_a_failure() {
        let cf = FakeCloudFront {
            distributions: vec![site("E1", "site.s3-website-us-east-1.amazonaws.com", "gone")],
            ..Default::default()
        };
        cf.policy_errors.lock().unwrap().insert("gone".into(), ErrorKind::AccessDenied);
        let live = planner(&cf, &FakeTags::default().broken(), PlanOptions::default()).await.unwrap();
        assert!(
            live.warnings.iter().any(|w| w.starts_with("cache policy gone: cannot read it")),
            "{:?}",
            live.warnings
        );
        assert!(
            live.warnings.iter().any(|w| w.starts_with("bucket site: cannot read its website")),
            "{:?}",
            live.warnings
        );

        cf.policy_errors.lock().unwrap().insert("gone".into(), ErrorKind::Throttled);
        let err = planner(&cf, &FakeObjects::default(), PlanOptions::default()).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttled);
    }

    #[tokio::test]
    async fn exceptions_are_the_tag_else_the_default() {
        let tags = FakeTags::default().with("a", EXCEPTION_PATHS_TAG, "up/");
        let mut warnings = Vec::new();
        let e = exceptions(&tags, &["a", "b", "a"], &ExceptionPaths::parse("tmp/"), &mut warnings).await;
        assert_eq!(e.for_bucket("a").unwrap().prefixes(), ["up/"]);
        assert_eq!(e.for_bucket("b").unwrap().prefixes(), ["tmp/"]);
        assert!(warnings.is_empty());
        let e = exceptions(&FakeTags::default().broken(), &["a"], &ExceptionPaths::default(), &mut warnings).await;
        assert!(e.for_bucket("a").is_none());
        assert_eq!(warnings.len(), 1);
    }
}
