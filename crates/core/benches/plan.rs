//! The planner against the approach most public scripts take, on one realistic workload.
//!
//! Workload (generated deterministically below, no randomness between runs):
//! - 100,000 already-decoded [`ObjectEvent`]s on one bucket (`acme-web-assets`): ~85% creations,
//!   ~15% removals; keys under `prod/` (most), `staging/` or the bucket root, of many shapes and
//!   depths (`assets/v3/img/photo-123.jpg`, `static/js/app.1a2b3c4d.js`, `docs/guides/page-7.html`,
//!   `images/2024/05/IMG 0042.png`, `사진/여름 휴가/12.jpg`, ...), with repeats;
//! - 200 distributions with 24 ordered cache behaviors plus the default; 20 of them reach the
//!   bucket through one or two S3 origins (five layouts: no OriginPath, `/prod`, `/prod` plus
//!   `/staging`, an origin group with a replica bucket, REST plus website endpoint), the other 180
//!   reach other buckets (some with names that share a prefix with ours);
//! - behaviors differ per distribution: picked and ordered by a per-distribution generator from a
//!   pool of ~40 patterns (`/assets/*`, `/static/js/*.js`, `*.png`, `/docs/*/page-?.html`,
//!   `/api/*` to a custom origin, ...), targets drawn among the distribution's origins and groups,
//!   `/live/*` with MaxTTL 0 and `*.m3u8` on the managed CachingDisabled policy;
//! - an `exceptionPaths` tag of `prod/uploads/` on the bucket.
//!
//! Benches: `plan/cfinv` (the [`Planner`], compiled once outside the timing), `plan/naive` (below),
//! `compile/planner_new` (compiling the 200 distributions) and `parse/parse_events` (10,000 S3
//! notification records, already a `serde_json::Value`). Before timing, the naive approach is
//! checked to give exactly the planner's (distribution, path) pairs.

use std::collections::{HashMap, HashSet};
use std::hint::black_box;

use cfinv_core::plan::Policy;
use cfinv_core::{
    parse_events, CacheBehavior, CachePolicies, Change, Distribution, ExceptionPaths, Exceptions, ObjectEvent, Origin,
    OriginGroup, PlanOptions, Planner, TtlSettings,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

const BUCKET: &str = "acme-web-assets";
const EVENTS: usize = 100_000;
const PARSE_EVENTS: usize = 10_000;
const DISTRIBUTIONS: usize = 200;
const ORDERED_BEHAVIORS: usize = 24;
const EXCEPTION_PATHS: &str = "prod/uploads/";
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";

// ---------------------------------------------------------------------------------------------
// Deterministic generation
// ---------------------------------------------------------------------------------------------

/// SplitMix64: small, fast, good enough to vary a workload, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }

    /// An 8-digit hex content hash, from a limited space so that builds repeat.
    fn hash8(&mut self) -> String {
        format!("{:08x}", (self.below(6000) as u32).wrapping_mul(2_654_435_761))
    }
}

const SECTIONS: &[&str] = &["getting-started", "api-reference", "guides", "faq", "release-notes"];

/// One S3 key of the site's bucket, as a user would see it (decoded).
fn key(rng: &mut Rng) -> String {
    let root = match rng.below(100) {
        0..=79 => "prod/",
        80..=87 => "staging/",
        _ => "",
    };
    let n = 1 + rng.below(6);
    let body = match rng.below(100) {
        0..=21 => format!("assets/v{n}/img/photo-{}.jpg", rng.below(20_000)),
        22..=29 => format!("assets/v{n}/img/icons/icon-{}.png", rng.below(500)),
        30..=33 => format!("assets/v{n}/fonts/inter-{}.woff2", rng.pick(&["regular", "bold", "italic", "semibold"])),
        34..=41 => format!("static/js/app.{}.js", rng.hash8()),
        42..=45 => format!("static/js/chunk-{}.{}.js.map", rng.below(300), rng.hash8()),
        46..=50 => format!("static/css/main.{}.css", rng.hash8()),
        51..=62 => format!("docs/{}/page-{}.html", rng.pick(SECTIONS), rng.below(40)),
        63..=67 => {
            format!("docs/{}/{}/{}/index.html", rng.pick(SECTIONS), rng.pick(&["v1", "v2", "latest"]), rng.below(200))
        }
        68..=72 => format!("images/{}/{:02}/IMG {:04}.png", 2019 + rng.below(7), 1 + rng.below(12), rng.below(10_000)),
        73..=74 => format!("images/{}/My Photo ({}).jpg", 2019 + rng.below(7), rng.below(3000)),
        75..=77 => format!("사진/여름 휴가/{}.jpg", rng.below(2000)),
        78..=79 => format!("문서/보고서 {}.pdf", rng.below(500)),
        80..=85 => format!("uploads/user-{}/{}.bin", rng.below(5000), rng.hash8()),
        86..=89 => format!("api/cache/{}.json", rng.below(1000)),
        90..=93 => {
            let stream = rng.below(20);
            if rng.pct(20) {
                format!("live/stream-{stream}/index.m3u8")
            } else {
                format!("live/stream-{stream}/seg-{}.ts", rng.below(5000))
            }
        }
        94..=96 => format!(
            "downloads/release-1.{}.{}/cfinv-{}.tar.gz",
            rng.below(10),
            rng.below(10),
            rng.pick(&["x86_64-linux", "aarch64-linux", "x86_64-darwin"])
        ),
        _ => (*rng.pick(&["index.html", "robots.txt", "favicon.ico", "sitemap.xml", "404.html"])).to_owned(),
    };
    format!("{root}{body}")
}

fn events(count: usize) -> Vec<ObjectEvent> {
    let mut rng = Rng::new(0x5EED_0001);
    (0..count)
        .map(|i| {
            let (change, name) = match rng.below(100) {
                0..=69 => (Change::Created, "ObjectCreated:Put"),
                70..=79 => (Change::Created, "ObjectCreated:CompleteMultipartUpload"),
                80..=84 => (Change::Created, "ObjectCreated:Copy"),
                85..=94 => (Change::Removed, "ObjectRemoved:Delete"),
                _ => (Change::Removed, "ObjectRemoved:DeleteMarkerCreated"),
            };
            ObjectEvent {
                bucket: BUCKET.to_owned(),
                key: key(&mut rng),
                change,
                event_name: name.to_owned(),
                event_time: Some(format!(
                    "2026-11-26T05:{:02}:{:02}.{:03}Z",
                    (i / 60_000) % 60,
                    (i / 1000) % 60,
                    i % 1000
                )),
                sequencer: Some(format!("{:018X}", 0x0055_AED6_DCD9_0281_u64 + i as u64)),
                version_id: None,
            }
        })
        .collect()
}

/// What a cache behavior is for, which decides its target and TTL.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Content of the bucket: targets one of the distribution's S3 origins or groups.
    Content,
    /// The application: targets the custom origin.
    Api,
    /// Content of another bucket.
    Other,
    /// Never cached (MaxTTL 0).
    Live,
    /// On the managed CachingDisabled policy.
    NoCachePolicy,
}

/// The pool a distribution's behaviors are drawn from; `{b}` is the distribution's base path.
const POOL: &[(&str, Kind)] = &[
    ("{b}/assets/v{n}/*", Kind::Content),
    ("{b}/assets/*", Kind::Content),
    ("{b}/assets/*/img/*.jpg", Kind::Content),
    ("{b}/assets/*/icons/*", Kind::Content),
    ("{b}/assets/*/fonts/*", Kind::Content),
    ("{b}/static/js/*.js", Kind::Content),
    ("{b}/static/js/*.map", Kind::Other),
    ("{b}/static/css/*", Kind::Content),
    ("{b}/static/*", Kind::Content),
    ("*.png", Kind::Content),
    ("*.jpg", Kind::Content),
    ("*.woff2", Kind::Content),
    ("*.js", Kind::Content),
    ("*.css", Kind::Content),
    ("*.pdf", Kind::Other),
    ("*.json", Kind::Api),
    ("{b}/docs/*/page-?.html", Kind::Content),
    ("{b}/docs/{s}/*", Kind::Content),
    ("{b}/docs/*", Kind::Content),
    ("{b}/docs/*/v?/*", Kind::Content),
    ("{b}/images/20??/*", Kind::Content),
    ("{b}/images/*", Kind::Content),
    ("{b}/uploads/*", Kind::Content),
    ("{b}/downloads/*", Kind::Other),
    ("{b}/favicon.ico", Kind::Content),
    ("{b}/robots.txt", Kind::Content),
    ("{b}/index.html", Kind::Content),
    ("{b}/404.html", Kind::Content),
    ("/*.html", Kind::Content),
    ("/*.xml", Kind::Content),
    ("{b}/search*", Kind::Api),
    ("{b}/graphql", Kind::Api),
    ("/v?/*", Kind::Api),
    ("{b}/legacy/*", Kind::Other),
    ("{b}/media/*", Kind::Other),
    ("/staging/*", Kind::Content),
    ("/healthz", Kind::Api),
    ("{b}/live/*/index.m3u8", Kind::NoCachePolicy),
];

/// An origin of an S3 bucket, in one of the REST domain forms.
fn s3_origin(id: &str, bucket: &str, form: u64, origin_path: &str) -> Origin {
    let region = ["us-east-1", "eu-west-1", "ap-northeast-2"][(form % 3) as usize];
    let domain_name = match form % 3 {
        0 => format!("{bucket}.s3.amazonaws.com"),
        1 => format!("{bucket}.s3.{region}.amazonaws.com"),
        _ => format!("{bucket}.s3.dualstack.{region}.amazonaws.com"),
    };
    Origin { id: id.to_owned(), domain_name, origin_path: origin_path.to_owned() }
}

fn custom_origin(id: &str, domain: &str) -> Origin {
    Origin { id: id.to_owned(), domain_name: domain.to_owned(), origin_path: String::new() }
}

/// Distribution `k`; those with `k % 10 == 7` reach [`BUCKET`].
fn distribution(k: usize) -> Distribution {
    let mut rng = Rng::new(0xD157_0000 + k as u64);
    let serving = k % 10 == 7;
    let form = rng.below(3);
    // (origins, groups, content targets, base path of the behaviors)
    let (mut origins, groups, content, base): (Vec<Origin>, Vec<OriginGroup>, Vec<&str>, &str) = if serving {
        match (k / 10) % 5 {
            // One origin at the bucket root: viewer paths are /prod/..., /staging/...
            0 => (vec![s3_origin("S3-site", BUCKET, form, "")], vec![], vec!["S3-site"], "/prod"),
            // One origin under /prod.
            1 => (vec![s3_origin("S3-site", BUCKET, form, "/prod")], vec![], vec!["S3-site"], ""),
            // Two origins of the bucket: /prod and /staging.
            2 => (
                vec![
                    s3_origin("S3-prod", BUCKET, form, "/prod"),
                    s3_origin("S3-staging", BUCKET, form + 1, "/staging"),
                ],
                vec![],
                vec!["S3-prod", "S3-prod", "S3-prod", "S3-staging"],
                "",
            ),
            // An origin group: the bucket under /prod, failing over to a replica bucket.
            3 => (
                vec![
                    s3_origin("S3-primary", BUCKET, form, "/prod"),
                    s3_origin("S3-replica", &format!("{BUCKET}-replica"), 2, "/prod"),
                ],
                vec![OriginGroup {
                    id: "failover".to_owned(),
                    members: vec!["S3-primary".to_owned(), "S3-replica".to_owned()],
                }],
                vec!["failover", "failover", "S3-primary"],
                "",
            ),
            // REST under /prod plus the website endpoint at the root (for old links).
            _ => (
                vec![
                    s3_origin("S3-rest", BUCKET, form, "/prod"),
                    custom_origin("S3-website", &format!("{BUCKET}.s3-website-us-east-1.amazonaws.com")),
                ],
                vec![],
                vec!["S3-rest", "S3-rest", "S3-website"],
                "",
            ),
        }
    } else {
        // Other buckets, some of whose names share a prefix with ours.
        let bucket = match k % 4 {
            0 => format!("{BUCKET}-logs-{k}"),
            1 => format!("www.site-{k}.example.com"),
            _ => format!("site-{k}-assets"),
        };
        let with_path = rng.pct(40);
        (
            vec![s3_origin("S3-site", &bucket, form, if with_path { "/prod" } else { "" })],
            vec![],
            vec!["S3-site"],
            if with_path { "" } else { "/prod" },
        )
    };
    origins.push(custom_origin("api", &format!("api-{k}.acme.example")));
    origins.push(s3_origin("S3-media", &format!("media-{k}"), form, ""));

    let version = (1 + rng.below(6)).to_string();
    let section = *rng.pick(SECTIONS);
    let expand = |p: &str| p.replace("{b}", base).replace("{n}", &version).replace("{s}", section);
    let mut rng_t = Rng::new(0x7A26_0000 + k as u64);
    let mut behavior = |pattern: String, kind: Kind| {
        let target = match kind {
            Kind::Api => "api",
            Kind::Other => "S3-media",
            _ if rng_t.pct(8) => "S3-media",
            _ => *rng_t.pick(&content),
        };
        let ttl = match kind {
            Kind::Live => TtlSettings::Legacy { min_ttl: Some(0), default_ttl: Some(0), max_ttl: Some(0) },
            Kind::NoCachePolicy => TtlSettings::Policy { id: CACHING_DISABLED.to_owned() },
            _ => match rng_t.below(100) {
                0..=2 => TtlSettings::Legacy { min_ttl: Some(0), default_ttl: Some(0), max_ttl: Some(0) },
                3..=49 => TtlSettings::Policy { id: CACHING_OPTIMIZED.to_owned() },
                50..=59 => TtlSettings::Legacy { min_ttl: None, default_ttl: None, max_ttl: None },
                _ => TtlSettings::Legacy { min_ttl: Some(0), default_ttl: Some(86_400), max_ttl: Some(31_536_000) },
            },
        };
        CacheBehavior { path_pattern: pattern, target_origin_id: target.to_owned(), ttl, ..Default::default() }
    };

    // Always an API route, a live route (MaxTTL 0) and the no-cache playlists; the rest drawn from
    // the pool, in a per-distribution order.
    let mut picked: Vec<(String, Kind)> = vec![
        (expand("{b}/api/*"), Kind::Api),
        (expand("{b}/live/*"), Kind::Live),
        ("*.m3u8".to_owned(), Kind::NoCachePolicy),
    ];
    let mut pool: Vec<&(&str, Kind)> = POOL.iter().collect();
    rng.shuffle(&mut pool);
    for &(p, kind) in pool.iter().take(ORDERED_BEHAVIORS - picked.len()) {
        picked.push((expand(p), *kind));
    }
    // Keep /api/* among the first few, shuffle the rest.
    rng.shuffle(&mut picked[1..]);
    picked.swap(0, rng.below(3) as usize);
    let behaviors: Vec<CacheBehavior> = picked.into_iter().map(|(p, kind)| behavior(p, kind)).collect();
    let default_kind = Kind::Content;
    let mut default_behavior = behavior("*".to_owned(), default_kind);
    default_behavior.target_origin_id = content[0].to_owned();
    Distribution {
        id: format!("E{:013}", 3_000_000_000_000u64 + k as u64 * 7_919),
        origins,
        origin_groups: groups,
        behaviors,
        default_behavior,
        ..Default::default()
    }
}

fn distributions() -> Vec<Distribution> {
    (0..DISTRIBUTIONS).map(distribution).collect()
}

fn exceptions() -> Exceptions {
    let mut e = Exceptions::new();
    e.insert(BUCKET, ExceptionPaths::parse(EXCEPTION_PATHS));
    e
}

/// How S3 notifications carry keys: form-encoded, `/` left alone, spaces as `+`.
const S3_KEY_ENCODE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b' ');

/// The events as S3 delivers them: one notification per event, each with its one record.
fn notifications(events: &[ObjectEvent]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| {
                let key = utf8_percent_encode(&e.key, S3_KEY_ENCODE).to_string().replace(' ', "+");
                json!({"Records": [{
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": e.event_time,
                    "eventName": e.event_name,
                    "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
                    "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                    "responseElements": {
                        "x-amz-request-id": "C3D13FE58DE4C810",
                        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
                    },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "cfinv",
                        "bucket": {
                            "name": e.bucket,
                            "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                            "arn": format!("arn:aws:s3:::{}", e.bucket)
                        },
                        "object": {
                            "key": key,
                            "size": 1024,
                            "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                            "sequencer": e.sequencer
                        }
                    }
                }]})
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// The naive approach
// ---------------------------------------------------------------------------------------------

/// What CloudFront wants encoded in a path: the core's own set, so that both approaches give the same
/// paths.
use cfinv_core::path::CLOUDFRONT_UNSAFE;

/// A straightforward recursive glob: `*` any run (across `/`), `?` one character.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

/// CloudFront's pattern semantics on a viewer path starting with `/`: a leading `/` is optional.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    if pattern.starts_with('/') || pattern.starts_with('*') {
        glob(pattern.as_bytes(), path.as_bytes())
    } else {
        glob(pattern.as_bytes(), &path.as_bytes()[1..])
    }
}

/// The origin's domain is one of the bucket's S3 endpoints, found by formatting the bucket's
/// domain prefix and comparing.
fn origin_is_bucket(domain: &str, bucket: &str) -> bool {
    let prefix = format!("{bucket}.s3");
    domain.starts_with(&prefix)
        && matches!(domain.as_bytes().get(prefix.len()), Some(b'.' | b'-'))
        && domain.ends_with(".amazonaws.com")
}

fn caches_nothing(ttl: &TtlSettings) -> bool {
    match ttl {
        TtlSettings::Legacy { max_ttl, .. } => *max_ttl == Some(0),
        TtlSettings::Policy { id } => {
            static MANAGED: std::sync::OnceLock<CachePolicies> = std::sync::OnceLock::new();
            MANAGED.get_or_init(CachePolicies::managed).get(id).is_some_and(|p| p.max_ttl == 0)
        }
    }
}

/// For every event, every distribution, every origin at the event's bucket: strip the OriginPath,
/// encode, then walk the behaviors in order (the default last) with the recursive glob; the first
/// match must target that origin (or a group holding it) and cache, for a creation.
fn naive(
    dists: &[Distribution],
    events: &[ObjectEvent],
    exception_prefixes: &[&str],
) -> HashMap<String, HashSet<String>> {
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for ev in events {
        let created = ev.change == Change::Created;
        if created && exception_prefixes.iter().any(|p| ev.key.starts_with(p)) {
            continue;
        }
        for d in dists {
            for origin in &d.origins {
                if !origin_is_bucket(&origin.domain_name, &ev.bucket) {
                    continue;
                }
                let origin_path = origin.origin_path.trim_matches('/');
                let rest = if origin_path.is_empty() {
                    ev.key.as_str()
                } else {
                    match ev.key.strip_prefix(&format!("{origin_path}/")) {
                        Some(rest) => rest,
                        None => continue,
                    }
                };
                let path = format!("/{}", utf8_percent_encode(rest, CLOUDFRONT_UNSAFE));
                let behavior =
                    d.behaviors.iter().find(|b| pattern_matches(&b.path_pattern, &path)).unwrap_or(&d.default_behavior);
                let target = &behavior.target_origin_id;
                let serves = *target == origin.id
                    || d.origin_groups.iter().any(|g| g.id == *target && g.members.contains(&origin.id));
                if !serves || (created && caches_nothing(&behavior.ttl)) {
                    continue;
                }
                out.entry(d.id.clone()).or_default().insert(path);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Benches
// ---------------------------------------------------------------------------------------------

/// The planner's answer as (distribution, path) pairs.
fn pairs_of_plan(plan: &cfinv_core::Plan) -> HashSet<(String, String)> {
    plan.invalidations
        .iter()
        .flat_map(|d| d.items.iter().map(move |p| (d.distribution_id.to_string(), p.to_string())))
        .collect()
}

fn pairs_of_naive(naive: &HashMap<String, HashSet<String>>) -> HashSet<(String, String)> {
    naive.iter().flat_map(|(d, paths)| paths.iter().map(move |p| (d.clone(), p.clone()))).collect()
}

fn benches(c: &mut Criterion) {
    let dists = distributions();
    let events = events(EVENTS);
    let exceptions = exceptions();
    let policies = CachePolicies::managed();
    let planner = Planner::new(&dists, &policies, PlanOptions::default());
    assert!(planner.warnings().is_empty(), "{:?}", planner.warnings());
    assert_eq!(planner.distributions_for_bucket(BUCKET).len(), 20);

    // The comparison is fair only if both give the same answer. (CFINV_BENCH_NO_CHECK=1 skips the
    // check, so that a profiler sees only the planner.)
    let plan = planner.plan(&events, &exceptions);
    if std::env::var_os("CFINV_BENCH_NO_CHECK").is_none() {
        let naive_answer = naive(&dists, &events, &[EXCEPTION_PATHS]);
        let (ours, theirs) = (pairs_of_plan(&plan), pairs_of_naive(&naive_answer));
        assert_eq!(ours.len(), theirs.len(), "planner and naive disagree on the number of (distribution, path) pairs");
        assert!(ours == theirs, "planner and naive disagree");
    }
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    for s in &plan.skipped {
        *reasons.entry(s.reason.as_str()).or_default() += 1;
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort();
    let removals = events.iter().filter(|e| e.change == Change::Removed).count();
    let unique_keys = events.iter().map(|e| &e.key).collect::<HashSet<_>>().len();
    eprintln!(
        "workload: {} events ({} removals, {} distinct keys), {} distributions; plan: {} paths \
         in {} distributions, {} sets; skipped: {:?}",
        events.len(),
        removals,
        unique_keys,
        dists.len(),
        plan.item_count(),
        plan.invalidations.len(),
        plan.invalidations.iter().map(|d| d.sets.len()).sum::<usize>(),
        reasons
    );
    drop(plan);

    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("cfinv", |b| b.iter(|| planner.plan(black_box(&events), black_box(&exceptions))));
    // The compact policy on the same batch (every distribution holds far more than 15 items, so
    // every one is compacted): what the strategy costs on top of the exact plan.
    let compact = Planner::new(&dists, &policies, PlanOptions::default().with_policy(Policy::Compact, 15).unwrap());
    group.bench_function("cfinv_compact", |b| b.iter(|| compact.plan(black_box(&events), black_box(&exceptions))));
    group.bench_function("naive", |b| b.iter(|| naive(black_box(&dists), black_box(&events), &[EXCEPTION_PATHS])));
    group.finish();

    let mut group = c.benchmark_group("compile");
    group.throughput(Throughput::Elements(DISTRIBUTIONS as u64));
    group.bench_function("planner_new", |b| {
        b.iter(|| Planner::new(black_box(&dists), &policies, PlanOptions::default()))
    });
    group.finish();

    let payload = notifications(&events[..PARSE_EVENTS]);
    assert_eq!(parse_events(&payload).unwrap(), events[..PARSE_EVENTS]);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(PARSE_EVENTS as u64));
    group.bench_function("parse_events", |b| b.iter(|| parse_events(black_box(&payload)).unwrap()));
    group.finish();
}

criterion_group!(plan, benches);
criterion_main!(plan);
