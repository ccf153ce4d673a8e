//! The binary itself: its settings and the one-line messages when a setting cannot work.

use std::process::Command;

fn scorecard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scorecard"))
}

#[test]
fn help_lists_every_setting_with_its_environment_variable() {
    let out = scorecard().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, env) in [
        ("--bind", "SCORECARD_BIND"),
        ("--data-dir", "SCORECARD_DATA_DIR"),
        ("--database-url", "SCORECARD_DATABASE_URL"),
        ("--public-url", "SCORECARD_PUBLIC_URL"),
        ("--log-format", "SCORECARD_LOG_FORMAT"),
        ("--sqlite-synchronous", "SCORECARD_SQLITE_SYNCHRONOUS"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} missing:\n{help}"
        );
    }
    assert!(help.contains("healthcheck"));
}

/// Runs the server with `args` and expects it to refuse to start with one line on stderr.
fn refuses_to_start(args: &[&str]) -> String {
    let out = scorecard()
        .args(args)
        .env_remove("SCORECARD_DATABASE_URL")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success(), "it started with {args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected one line, got:\n{stderr}"
    );
    stderr
}

#[test]
fn a_port_in_use_stops_start_up_with_one_line_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let message = refuses_to_start(&["--bind", &addr, "--data-dir", dir.path().to_str().unwrap()]);
    assert!(
        message.contains("already in use") && message.contains("--bind"),
        "{message}"
    );
}

#[test]
fn a_data_folder_that_cannot_be_created_stops_start_up_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let data = file.join("data");
    let message = refuses_to_start(&[
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(message.contains("--data-dir"), "{message}");
}

#[test]
fn healthcheck_fails_when_no_server_answers() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let out = scorecard()
        .args(["--bind", &addr, "healthcheck"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
