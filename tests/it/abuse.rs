//! Runs a shared cluster throws at the tool (issue 41): outputs too large
//! for any disk, counts that overflow, two runs into one directory.

use crate::common::{bin, stderr};
use std::time::{Duration, Instant};

/// A run of 10¹⁹ rows is refused before anything is written, with the
/// estimate and the free space in the message; counts whose product
/// overflows 64 bits are refused, not wrapped.
#[test]
fn impossible_runs_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big");
    let o = bin()
        .args([
            "simulate",
            "--model",
            "gbm",
            "--paths",
            "400000000",
            "--steps",
            "2520",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains("GB") && (msg.contains("free") || msg.contains("--yes")),
        "{msg}"
    );
    assert!(!out.exists());
    let o = bin()
        .args([
            "simulate",
            "--model",
            "gbm",
            "--paths",
            "18446744073709551615",
            "--steps",
            "100000000",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("overflows"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// While one run writes into a directory, a second run into it is refused
/// (exit 2) with the first run's pid; once the first is killed (SIGKILL: no
/// chance to clean up), the kernel has released its lock and a new run
/// proceeds.
#[test]
fn a_second_run_into_a_held_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut first = bin()
        .args([
            "simulate", "-q", "--model", "heston", "--paths", "200000", "--steps", "252", "--out",
        ])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = out.join(".synthmarket.lock");
    let t = Instant::now();
    while !lock.exists() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(lock.exists(), "the first run never took the lock");
    let o = small_run(&out);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("pid {}", first.id())),
        "{}",
        stderr(&o)
    );
    let o = small_run(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("spot.csv").exists());
    assert!(!lock.exists(), "a finished run removes its lock file");
}

/// A small GBM run into `out`, replacing what is there.
fn small_run(out: &std::path::Path) -> std::process::Output {
    bin()
        .args([
            "simulate",
            "-q",
            "--model",
            "gbm",
            "--paths",
            "10",
            "--steps",
            "5",
            "--overwrite",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap()
}
