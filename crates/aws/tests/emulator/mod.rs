//! Starts the emulated AWS (`tests/emulator/emulator.py`, moto plus cfinv's fidelity fixes) once per
//! test binary, on a free port, and talks to its control routes.
//!
//! Python comes from `$CFINV_PYTHON`, else the repository's `.venv` (`make venv` creates it). The
//! server exits with the test process (`--parent-pid`). Tests share it and keep out of each
//! other's way with unique resource names ([`unique`]).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cfinv_aws::Clients;

pub struct Emulator {
    pub endpoint: String,
    pub port: u16,
    /// Kept, never waited for: the server outlives every test and exits with the test process.
    _child: std::sync::Mutex<std::process::Child>,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// The shared emulator, started on first use.
pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(start)
}

fn start() -> Emulator {
    let root = repo_root();
    let python = std::env::var_os("CFINV_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join(".venv/bin/python"));
    assert!(python.exists(), "no Python with moto at {}: run `make venv` (or set CFINV_PYTHON)", python.display());
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let log_dir = root.join("target/emulator-logs");
    std::fs::create_dir_all(&log_dir).expect("log dir");
    let log = std::fs::File::create(log_dir.join(format!("emulator-{port}.log"))).expect("log file");
    let child = Command::new(&python)
        .arg(root.join("tests/emulator/emulator.py"))
        .args(["--port", &port.to_string(), "--parent-pid", &std::process::id().to_string()])
        .env("CFINV_EMU_INVALIDATION_SECONDS", "2")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the emulator");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = http(port, "GET", "/_cfinv/health", "") {
            break;
        }
        assert!(Instant::now() < deadline, "the emulator did not answer within 60 s; see target/emulator-logs/");
        std::thread::sleep(Duration::from_millis(200));
    }
    Emulator { endpoint: format!("http://127.0.0.1:{port}"), port, _child: std::sync::Mutex::new(child) }
}

/// A plain HTTP/1.1 request to the emulator (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

impl Emulator {
    /// Makes the next `count` calls of `service:operation` whose path or body contains `matching`
    /// fail with `code`.
    pub fn fault(&self, service: &str, operation: &str, code: &str, count: u32, matching: &str) {
        let body = serde_json::json!({"service": service, "operation": operation, "code": code, "count": count, "match": matching});
        let (status, text) = http(self.port, "POST", "/_cfinv/faults", &body.to_string()).expect("fault route");
        assert_eq!(status, 200, "{text}");
    }

    /// Every message published to SNS so far.
    pub fn sns_messages(&self) -> Vec<serde_json::Value> {
        let (_, text) = http(self.port, "GET", "/_cfinv/sns", "").expect("sns route");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        v["messages"].as_array().cloned().unwrap_or_default()
    }

    /// SDK clients for the emulator. SDK retries are off so that an injected fault is seen once.
    pub async fn clients(&self) -> Clients {
        let mut clients = Clients::for_endpoint(&self.endpoint, "us-east-1").await;
        clients.config = clients.config.to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
        clients
    }
}

/// A name no other test uses: lowercase, digits and dashes (valid for buckets, queues, topics).
pub fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A raw S3 client with path-style addressing.
pub fn s3(clients: &Clients) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&clients.config).force_path_style(true).build())
}

/// A distribution with one S3 origin for `bucket` (optionally under an OriginPath) whose default
/// behavior uses the managed CachingOptimized policy. Returns its id.
pub async fn create_distribution(clients: &Clients, bucket: &str, origin_path: &str) -> String {
    create_distribution_with(clients, bucket, origin_path, &[]).await
}

/// A custom cache policy with these TTLs (min, default, max). Returns its id.
pub async fn create_cache_policy(clients: &Clients, ttls: (i64, i64, i64)) -> String {
    use aws_sdk_cloudfront::types::*;
    let cf = aws_sdk_cloudfront::Client::new(&clients.config);
    let parameters = ParametersInCacheKeyAndForwardedToOrigin::builder()
        .enable_accept_encoding_gzip(false)
        .headers_config(
            CachePolicyHeadersConfig::builder().header_behavior(CachePolicyHeaderBehavior::None).build().unwrap(),
        )
        .cookies_config(
            CachePolicyCookiesConfig::builder().cookie_behavior(CachePolicyCookieBehavior::None).build().unwrap(),
        )
        .query_strings_config(
            CachePolicyQueryStringsConfig::builder()
                .query_string_behavior(CachePolicyQueryStringBehavior::None)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = CachePolicyConfig::builder()
        .name(unique("policy"))
        .min_ttl(ttls.0)
        .default_ttl(ttls.1)
        .max_ttl(ttls.2)
        .parameters_in_cache_key_and_forwarded_to_origin(parameters)
        .build()
        .unwrap();
    let out = cf.create_cache_policy().cache_policy_config(config).send().await.expect("create cache policy");
    out.cache_policy().expect("policy").id().to_owned()
}

/// As [`create_distribution`], with ordered cache behaviors `(pattern, cache policy id)` on the same
/// origin before the default.
pub async fn create_distribution_with(
    clients: &Clients,
    bucket: &str,
    origin_path: &str,
    behaviors: &[(&str, &str)],
) -> String {
    use aws_sdk_cloudfront::types::*;
    let cf = aws_sdk_cloudfront::Client::new(&clients.config);
    let origin = Origin::builder()
        .id("s3")
        .domain_name(format!("{bucket}.s3.amazonaws.com"))
        .origin_path(origin_path)
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let default = DefaultCacheBehavior::builder()
        .target_origin_id("s3")
        .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
        .cache_policy_id("658327ea-f89d-4fab-a63d-7e88639e58f6")
        .build()
        .unwrap();
    let items: Vec<CacheBehavior> = behaviors
        .iter()
        .map(|(pattern, policy)| {
            CacheBehavior::builder()
                .path_pattern(*pattern)
                .target_origin_id("s3")
                .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                .cache_policy_id(*policy)
                .build()
                .unwrap()
        })
        .collect();
    let config = DistributionConfig::builder()
        .caller_reference(unique("dist"))
        .origins(Origins::builder().quantity(1).items(origin).build().unwrap())
        .cache_behaviors(CacheBehaviors::builder().quantity(items.len() as i32).set_items(Some(items)).build().unwrap())
        .default_cache_behavior(default)
        .comment("cfinv test")
        .enabled(true)
        .build()
        .unwrap();
    let out = cf.create_distribution().distribution_config(config).send().await.expect("create distribution");
    out.distribution().expect("distribution").id().to_owned()
}
