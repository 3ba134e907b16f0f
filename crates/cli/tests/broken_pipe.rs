//! Output cut short by its reader (`cfinv resubmit --dry-run FILE | head -1`) ends the command
//! quietly, as it ends any Unix tool, instead of a panic in `println!` (exit code 101 and a
//! backtrace).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
#[cfg(unix)]
fn a_reader_that_stops_reading_ends_the_command_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("broken-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Far more than a pipe's buffer (64 KiB), so the command is still writing when the reader goes.
    let mut text = String::from("CloudFront Id [E1]\n");
    for set in 1..=30 {
        text.push_str(&format!("(Set {set} Start)\n"));
        for i in 0..3000 {
            text.push_str(&format!("/assets/{set}/{i:05}.js\n"));
        }
        text.push_str(&format!("(Set {set} End)\n"));
    }
    let file = dir.join("20261130000000000000000abcdefghi_E1.txt");
    std::fs::write(&file, text).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_cfinv"))
        .args(["resubmit", "--dry-run"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("would submit 30 set(s)"), "{first}");
    // The reader is dropped here: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "a panic's exit code");
    assert_eq!(out.status.signal(), Some(13), "ended by SIGPIPE, as `head` expects: {:?}", out.status);
}
