//! The `make` targets that run `cfinv` hand it the user's values exactly as given: a `$`, a quote
//! or a backtick in `KEY=` is part of the key, never make or shell syntax. `CARGO` is pointed at a
//! script that prints the arguments it receives, so no AWS call (and no build) happens. And `make
//! help` lists every target that has a description, as the README says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A stand-in for cargo that prints each argument it receives followed by NUL.
fn echo_cargo(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("makefile-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("echo-cargo");
    std::fs::write(&script, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

fn make(args: &[&str]) -> Output {
    Command::new("make")
        .arg("-s")
        .arg("--no-print-directory")
        .arg("-C")
        .arg(workspace())
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CFINV_STACK")
        .output()
        .expect("run make")
}

/// The arguments cargo received, after `run -q -p cfinv --`.
fn cfinv_args(out: &Output) -> Vec<String> {
    assert!(out.status.success(), "make failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let args: Vec<String> = stdout.split_terminator('\0').map(str::to_owned).collect();
    assert_eq!(args[..4], ["run", "-q", "-p", "cfinv"], "{args:?}");
    let rest = args[4..].to_vec();
    assert_eq!(rest.first().map(String::as_str), Some("--"), "{args:?}");
    rest[1..].to_vec()
}

#[test]
fn explain_receives_the_key_as_given() {
    let cargo = echo_cargo("explain");
    let cargo = format!("CARGO={}", cargo.display());
    for key in ["price$HOME.html", "a`true`b.html", "a\"b.html", "it's $(shell id) *.html", "-x.html"] {
        let out = make(&["explain", &cargo, "BUCKET=my-site", &format!("KEY={key}")]);
        assert_eq!(cfinv_args(&out), ["explain", "--", "my-site", key], "KEY={key}");
    }
    let out = make(&["explain", &cargo, "BUCKET=my site", "KEY=k", "STACK=my $stack", "REMOVED=1"]);
    assert_eq!(cfinv_args(&out), ["explain", "--stack", "my $stack", "--removed", "--", "my site", "k"]);
}

#[test]
fn the_other_targets_receive_their_values_as_given() {
    let cargo = echo_cargo("others");
    let cargo = format!("CARGO={}", cargo.display());
    let out = make(&["status", &cargo, "EXECUTION=cfinv-10s-`id`", "STACK=s\"1"]);
    assert_eq!(cfinv_args(&out), ["status", "--stack", "s\"1", "--execution", "cfinv-10s-`id`"]);
    let out = make(&["status", &cargo]);
    assert_eq!(cfinv_args(&out), ["status"]);
    // FILES is split at whitespace, and nothing in it is expanded or globbed.
    let out = make(&["resubmit", &cargo, "FILES=s3://b/k1.txt  *  invalidation_error/x$HOME.txt", "DRY_RUN=1"]);
    assert_eq!(
        cfinv_args(&out),
        ["resubmit", "--dry-run", "--", "s3://b/k1.txt", "*", "invalidation_error/x$HOME.txt"]
    );
    let out = make(&["connect-bucket", &cargo, "BUCKET=b'x", "EXCEPTION_PATHS=up/,$tmp/", "VIA=notification"]);
    assert_eq!(
        cfinv_args(&out),
        ["connect-bucket", "--bucket", "b'x", "--via", "notification", "--exception-paths", "up/,$tmp/"]
    );
    let out = make(&["disconnect-bucket", &cargo, "BUCKET=$(id)"]);
    assert_eq!(cfinv_args(&out), ["disconnect-bucket", "--bucket", "$(id)"]);
    let out = make(&["replay-ingest-failures", &cargo, "STACK=a b"]);
    assert_eq!(cfinv_args(&out), ["replay-ingest-failures", "--stack", "a b"]);
    let out = make(&["start-window", &cargo, "STACK=`id`"]);
    assert_eq!(cfinv_args(&out), ["start-window", "--stack", "`id`"]);
}

/// DRY_RUN= and REMOVED= are yes/no values: empty, 0, no, false and off (any case) leave the flag out,
/// so `DRY_RUN=0` submits for real and `REMOVED=0` explains a creation.
#[test]
fn yes_no_values_give_their_flag_only_when_yes() {
    let cargo = echo_cargo("yes-no");
    let cargo = format!("CARGO={}", cargo.display());
    for (value, dry) in [
        ("1", true),
        ("yes", true),
        ("True", true),
        ("0", false),
        ("no", false),
        ("FALSE", false),
        ("off", false),
        ("", false),
        ("0 ", false),
        (" no ", false),
    ] {
        let out = make(&["resubmit", &cargo, "FILES=f.txt", &format!("DRY_RUN={value}")]);
        let expected: &[&str] =
            if dry { &["resubmit", "--dry-run", "--", "f.txt"] } else { &["resubmit", "--", "f.txt"] };
        assert_eq!(cfinv_args(&out), expected, "DRY_RUN={value}");
        let out = make(&["explain", &cargo, "BUCKET=b", "KEY=k", &format!("REMOVED={value}")]);
        let expected: &[&str] =
            if dry { &["explain", "--removed", "--", "b", "k"] } else { &["explain", "--", "b", "k"] };
        assert_eq!(cfinv_args(&out), expected, "REMOVED={value}");
    }
}

/// `make resubmit FILES=f DRY_RUN= 1` is the goals `resubmit` and `1` with DRY_RUN empty: make
/// stops before anything runs, instead of submitting for real and then failing on `1`.
#[test]
fn a_goal_that_is_no_target_stops_an_acting_command_before_it_runs() {
    let cargo = echo_cargo("unknown-goal");
    let cargo = format!("CARGO={}", cargo.display());
    let out = make(&["resubmit", &cargo, "FILES=f.txt", "DRY_RUN=", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "cargo ran: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no target named 1; nothing was run"), "{stderr}");
}

#[test]
fn explain_without_a_key_prints_its_usage() {
    let cargo = echo_cargo("usage");
    let out = make(&["explain", &format!("CARGO={}", cargo.display()), "BUCKET=my-site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("usage: make explain BUCKET=name KEY=key"));
}

#[test]
fn help_lists_every_described_target() {
    let makefile = std::fs::read_to_string(workspace().join("Makefile")).unwrap();
    let described: Vec<&str> = makefile
        .lines()
        .filter(|l| l.contains(": ") && l.contains("## ") && !l.starts_with(['\t', ' ', '#']))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert!(described.contains(&"e2e"), "{described:?}");
    let out = make(&["help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = help.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(listed, described);
}
