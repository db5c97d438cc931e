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

/// Copies the shipped deep model (`config.json`, `model.safetensors`) into
/// `dir`.
fn copy_model(dir: &std::path::Path) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500");
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
}

/// Corrupt model directories (issue 41 point 4): a truncated
/// `model.safetensors`, a `config.json` with a missing field or a field of
/// the wrong type, weights of the wrong shape for the configured widths,
/// and a market model whose net is truncated: each an error naming the
/// file (and the field where there is one), exit 2, no output, no panic.
#[test]
fn corrupt_model_directories_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let out = dir.path().join("out");
    let fails = |model: &std::path::Path, parts: &[&str]| {
        let o = bin()
            .args([
                "simulate", "-q", "--model", "deep", "--paths", "2", "--steps", "5",
            ])
            .arg("--model-path")
            .arg(model)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let msg = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{msg}");
        for p in parts {
            assert!(msg.contains(p), "`{msg}` should name `{p}`");
        }
        assert!(!msg.contains("panicked"), "{msg}");
        assert!(!out.exists());
    };
    std::fs::create_dir_all(&model).unwrap();
    copy_model(&model);
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    std::fs::write(
        model.join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    fails(&model, &["model.safetensors"]);
    copy_model(&model);
    let config = std::fs::read_to_string(model.join("config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&config).unwrap();
    let missing = {
        let mut j = json.clone();
        j.as_object_mut().unwrap().remove("scale");
        j
    };
    std::fs::write(model.join("config.json"), missing.to_string()).unwrap();
    fails(&model, &["config.json", "scale"]);
    json["hidden"] = serde_json::json!("wide");
    std::fs::write(model.join("config.json"), json.to_string()).unwrap();
    fails(&model, &["config.json", "hidden"]);
    json["hidden"] = serde_json::json!([16, 16]);
    std::fs::write(model.join("config.json"), json.to_string()).unwrap();
    fails(&model, &["model.safetensors", "shape"]);

    // A market model with one net cut short.
    let market = dir.path().join("market");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500-panel");
    let panel: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("panel.json")).unwrap()).unwrap();
    std::fs::create_dir_all(&market).unwrap();
    std::fs::copy(src.join("panel.json"), market.join("panel.json")).unwrap();
    for net in panel["nets"].as_array().unwrap() {
        let net = net.as_str().unwrap();
        std::fs::create_dir_all(market.join(net)).unwrap();
        for f in ["config.json", "model.safetensors"] {
            std::fs::copy(src.join(net).join(f), market.join(net).join(f)).unwrap();
        }
    }
    let victim = market.join("nets/03-BBY/model.safetensors");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..100]).unwrap();
    fails(&market, &["03-BBY", "model.safetensors"]);
    // panel.json with a field of the wrong type.
    let mut p = panel.clone();
    p["betas"] = serde_json::json!("high");
    std::fs::write(market.join("panel.json"), p.to_string()).unwrap();
    fails(&market, &["panel.json", "betas"]);
}

/// A pricing table beside a model it was not fitted for (issue 41 point 4)
/// is refused by its fingerprint, naming `pricing.json` and its `model`
/// field (exit 2, no output); the shipped table matches the shipped model.
#[test]
fn a_pricing_table_of_another_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    std::fs::create_dir_all(&model).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sp500");
    for f in [
        "config.json",
        "model.safetensors",
        "pricing.json",
        "pricing.safetensors",
    ] {
        std::fs::copy(src.join(f), model.join(f)).unwrap();
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("pricing.json")).unwrap()).unwrap();
    let shipped = synthmarket::deep::MixtureNet::load(&src).unwrap();
    assert_eq!(json["model"], serde_json::json!(shipped.fingerprint()));
    // Another model: the last weight's lowest byte changed.
    let mut w = std::fs::read(model.join("model.safetensors")).unwrap();
    let n = w.len();
    w[n - 4] ^= 1;
    std::fs::write(model.join("model.safetensors"), &w).unwrap();
    let out = dir.path().join("out");
    let o = bin()
        .args([
            "simulate",
            "-q",
            "--model",
            "deep",
            "--options",
            "--paths",
            "2",
            "--steps",
            "5",
        ])
        .arg("--model-path")
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let msg = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("pricing.json") && msg.contains("model") && msg.contains("another model"),
        "{msg}"
    );
    assert!(!out.exists());
}

/// A run stopped by SIGTERM or SIGINT (issue 41 point 2) removes its
/// temporary `.spot.csv.partial`, its lock and the directory it created,
/// and exits with 128 + the signal (143, 130) within a second.
#[cfg(unix)]
#[test]
fn a_stopped_run_leaves_nothing() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let mut child = bin()
            .args([
                "simulate", "-q", "--model", "heston", "--paths", "200000", "--steps", "252",
                "--out",
            ])
            .arg(&out)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let partial = out.join(".spot.csv.partial");
        let t = Instant::now();
        while !(partial.exists() && std::fs::metadata(&partial).map_or(0, |m| m.len()) > 0)
            && t.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(partial.exists(), "the run never started writing");
        let sent = Instant::now();
        let ok = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(1),
                "SIG{signal}: still running after 1 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert!(
            !out.exists(),
            "SIG{signal}: {:?} left behind",
            std::fs::read_dir(&out).map(|d| d.count())
        );
    }
}
