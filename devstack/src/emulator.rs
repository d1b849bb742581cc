//! The local AWS emulator (ministack, pinned in the project's Python venv) as a child process.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

/// The repository root, where `.venv/` and `client/` live.
pub fn repo_root() -> PathBuf {
    std::env::var_os("MEDIA_SHARE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("workspace root")
                .to_path_buf()
        })
}

fn ministack_bin() -> PathBuf {
    std::env::var_os("MINISTACK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/ministack"))
}

/// Reserves a port: `0` means any free one; any other must be free now. The port stays taken
/// while the listener lives, so the kernel cannot hand it to another `bind(0)` (the proxy's,
/// the web client's) in between: drop the listener right before the emulator binds it.
pub fn reserve_port(requested: u16, what: &str) -> Result<TcpListener> {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, requested)).with_context(|| {
        format!("port {requested} on 127.0.0.1 for the {what} is already in use: stop what holds it or pass another port (0 picks a free one)")
    })
}

/// Makes the stream event-source mappings start over at the stream's trim horizon.
///
/// Measured on ministack 1.5.33: a restart keeps each stream mapping's absolute read
/// position but not the stream's records, whose numbering starts again at 0, so the mapping
/// skipped as many new records as it had read before the restart (the index of the first
/// uploads after a restart was never rewritten). Forgetting the saved positions makes the
/// mapping read from its `StartingPosition` (the template's TRIM_HORIZON) again, which after
/// a restart is exactly the new records. AWS keeps a stream's records for 24 hours and
/// never renumbers them.
fn forget_stream_positions(lambda_state: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(lambda_state) else {
        return Ok(());
    };
    let mut state: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", lambda_state.display()))?;
    if let Some(positions) = state.pointer_mut("/payload/dynamodb_stream_positions/data") {
        *positions = serde_json::json!({});
        std::fs::write(lambda_state, serde_json::to_vec(&state)?)?;
    }
    Ok(())
}

/// The emulator's temporary directory, emptied at each start: `{emulator data}/tmp`.
///
/// ministack 1.5.33 extracts every function zip it runs into
/// `$TMPDIR/ministack-provided-code-{port}/{sha256}` and removes it only on a `reset()`, never
/// at exit: each stack left about 125 MB in `/tmp` (230 of them, 28 GB, measured here on
/// 2026-11-30 after a day of test runs). Under the state directory they go when a test's stack
/// is removed, and `make dev` keeps one copy per deployed build instead of one per run. The
/// function processes inherit it too, as a Lambda's `/tmp` is the function's own.
pub fn scratch_dir(emulator_data: &Path) -> Result<PathBuf> {
    let scratch = emulator_data.join("tmp");
    match std::fs::remove_dir_all(&scratch) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("emptying {}", scratch.display()))
        }
        _ => {}
    }
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    Ok(scratch)
}

/// A running emulator; killed when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

impl Emulator {
    /// Starts the emulator on `port`, persisting under `state_dir`, and waits until healthy. The
    /// functions it runs reach AWS at `functions_endpoint` (the recording proxy, `proxy.rs`).
    pub async fn start(port: u16, state_dir: &Path, functions_endpoint: &str) -> Result<Emulator> {
        let bin = ministack_bin();
        if !bin.exists() {
            bail!(
                "the emulator is not installed at {}: run `make deps` (or `make dev`) first",
                bin.display()
            );
        }
        let data = state_dir.join("emulator");
        std::fs::create_dir_all(data.join("state"))?;
        forget_stream_positions(&data.join("state/lambda.json"))?;
        std::fs::create_dir_all(data.join("s3"))?;
        let scratch = scratch_dir(&data)?;
        let log = state_dir.join("emulator.log");
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(&bin)
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("MINISTACK_HOST", "127.0.0.1")
            .env("SFTP_ENABLED", "0")
            .env("IOT_MTLS_ENABLED", "0")
            .env("PERSIST_STATE", "1")
            .env("STATE_DIR", data.join("state"))
            .env("S3_PERSIST", "1")
            .env("S3_DATA_DIR", data.join("s3"))
            .env("TMPDIR", &scratch)
            // The function processes the emulator starts inherit these: they reach the
            // emulator through the recording proxy, never real AWS.
            .env("AWS_ENDPOINT_URL", functions_endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", crate::REGION)
            .env("AWS_DEFAULT_REGION", crate::REGION)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut emulator = Emulator {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        emulator.wait_healthy(Duration::from_secs(60)).await?;
        Ok(emulator)
    }

    async fn wait_healthy(&mut self, timeout: Duration) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/_ministack/health", self.endpoint);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the emulator exited with {status} before it was ready; its log:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if started.elapsed() > timeout {
                bail!(
                    "the emulator did not become healthy within {timeout:?}; its log:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Whether the emulator process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub async fn stop(mut self) {
        // SIGTERM first so the emulator writes its state; then make sure.
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}
