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

/// Starts the binary on a free port with `RUST_LOG` at `filter` and returns it with its
/// base URL, read from the "listening" log line.
fn start_logged(
    dir: &std::path::Path,
    filter: &str,
) -> (
    std::process::Child,
    String,
    std::io::BufReader<std::process::ChildStdout>,
) {
    use std::io::BufRead;
    let mut child = scorecard()
        .args([
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", filter)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(n) if n > 0 => {
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on ".len()..];
                    break Some(rest.split('"').next().unwrap_or_default().to_string());
                }
            }
            _ => break None,
        }
    };
    match url {
        Some(url) => (child, url, out),
        None => {
            let status = child.wait();
            panic!("the server exited before listening: {status:?}");
        }
    }
}

#[tokio::test]
async fn share_tokens_never_reach_the_logs_and_sigterm_stops_the_server_cleanly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (child, base, mut out) = start_logged(dir.path(), "debug");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let created = client.post(format!("{base}/demo")).send().await.unwrap();
    let edit = created.headers()["location"].to_str().unwrap().to_string();
    let token = edit.trim_start_matches("/s/").to_string();
    for path in [
        edit.clone(),
        format!("{edit}/settings"),
        format!("{edit}/scorecard.json"),
        format!("/v/{}", "B".repeat(43)),
    ] {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }
    client
        .post(format!("{base}{edit}/workflows"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=&current_tier=small")
        .send()
        .await
        .unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "the server did not exit cleanly on SIGTERM: {exit:?}"
    );
    let mut logs = String::new();
    out.read_to_string(&mut logs).unwrap();
    assert!(
        logs.contains("/s/{token}"),
        "requests are logged by route:\n{logs}"
    );
    let refused = logs
        .lines()
        .find(|l| l.contains("request refused"))
        .unwrap_or_else(|| panic!("the unknown link is logged:\n{logs}"));
    assert!(
        refused.contains("\"route\":\"/v/{token}\"") && refused.contains("\"request_id\":\""),
        "an error's line names its route and request id: {refused}"
    );
    assert!(
        !logs.contains(&token),
        "a share token reached the logs:\n{logs}"
    );
    assert!(!logs.contains(&"B".repeat(43)));
}

#[tokio::test]
async fn a_backup_is_consistent_and_checked_and_a_restore_brings_it_back() {
    use scorecard::app::AppState;
    use scorecard::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("scorecard.db").display());
    std::fs::create_dir_all(&data).unwrap();
    let state = AppState::open(Config::for_database(url.clone()))
        .await
        .unwrap();
    scorecard::scorecard::service::create_demo(&state)
        .await
        .unwrap();
    state.db.close().await;

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = free.local_addr().unwrap().to_string();
    drop(free);
    let backup = dir.path().join("before.db");
    let run = |args: &[&str]| {
        scorecard()
            .args(["--bind", &bind, "--data-dir", data.to_str().unwrap()])
            .args(args)
            .env_remove("SCORECARD_DATABASE_URL")
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    };
    let out = run(&["backup", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 scorecards and 16 workflows") && said.contains("integrity check: ok"),
        "{said}"
    );
    // A second backup to the same file is refused rather than overwriting it.
    assert!(!run(&["backup", backup.to_str().unwrap()]).status.success());

    // Lose data, then restore.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("delete from workflows")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let out = run(&["restore", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 scorecards and 16 workflows"));
    // Not a database: refused with a message.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not sqlite").unwrap();
    let out = run(&["restore", junk.to_str().unwrap()]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn a_whole_instance_exports_to_json_and_imports_elsewhere_once() {
    use scorecard::app::AppState;
    use scorecard::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::create_dir_all(&first).unwrap();
    let url = format!("sqlite://{}", first.join("scorecard.db").display());
    let state = AppState::open(Config::for_database(url)).await.unwrap();
    scorecard::scorecard::service::create_demo(&state)
        .await
        .unwrap();
    scorecard::scorecard::service::create_scorecard(
        &state,
        "Empty one",
        scorecard::scorecard::money::Currency::parse("JPY").unwrap(),
    )
    .await
    .unwrap();
    state.db.close().await;

    let run = |data: &std::path::Path, args: &[&str]| {
        scorecard()
            .args(["--data-dir", data.to_str().unwrap()])
            .args(args)
            .env_remove("SCORECARD_DATABASE_URL")
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    };
    let file = dir.path().join("instance.json");
    let out = run(&first, &["export", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exported 2 scorecards and 16 workflows")
    );

    let out = run(&second, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 2 scorecards and 16 workflows")
    );
    // Exporting the copy gives the same document: links, settings and workflows alike.
    let again = run(&second, &["export"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        std::fs::read_to_string(&file).unwrap().trim()
    );
    // Importing twice would duplicate the share links: refused, nothing added.
    let out = run(&second, &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already on this server"));
    let out = run(&second, &["export"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("\"edit_token\"")
            .count(),
        2
    );
}
