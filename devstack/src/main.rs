//! devstack: the whole system on one machine, deployed from `infra/template.yaml`.
//!
//! `devstack up` starts the emulator, deploys the template onto it (the functions run as
//! `provided.al2023` processes behind the emulator's Lambda runtime API, fed by the
//! template's event-source mappings and schedule), serves the web client and writes
//! `stack.json`; `devstack invoke` calls one deployed function through the Lambda Invoke API.

mod deploy;
mod emulator;
mod iam;
mod invoke;
mod proxy;
mod serve;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use media_core::stack::StackInfo;
use tokio_util::sync::CancellationToken;

use crate::emulator::{repo_root, reserve_port, Emulator};

#[derive(Parser)]
#[command(about = "Run the media-sharing system on this machine")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the emulator, deploy the template onto it and serve the client (default).
    Up(UpArgs),
    /// Call one function directly against the running stack and print its JSON answer.
    Invoke {
        /// content-updated, face-detection, update-content-index or purge-bucket.
        function: String,
        /// The event, as JSON.
        event: String,
        #[arg(long, env = "DEVSTACK_STATE_DIR", default_value = ".devstack")]
        state_dir: PathBuf,
    },
}

#[derive(clap::Args, Clone)]
struct UpArgs {
    /// Where data, logs and stack.json live; data survives restarts.
    #[arg(long, env = "DEVSTACK_STATE_DIR", default_value = ".devstack")]
    state_dir: PathBuf,
    /// Emulator port on 127.0.0.1 (0: any free port); the AWS endpoint, the recording proxy, is
    /// the next port.
    #[arg(long, env = "DEVSTACK_PORT", default_value_t = 4566)]
    port: u16,
    /// Web client port on 127.0.0.1 (0: any free port).
    #[arg(long, env = "DEVSTACK_CLIENT_PORT", default_value_t = 5173)]
    client_port: u16,
    /// The built web client.
    #[arg(long, env = "DEVSTACK_CLIENT_DIR")]
    client_dir: Option<PathBuf>,
    /// Minutes between purge-bucket runs (the template's schedule, an hour in the cloud).
    #[arg(long, env = "DEVSTACK_PURGE_INTERVAL_MINUTES", default_value_t = 5)]
    purge_interval: u64,
    /// A template parameter `Name=Value` for this stack (repeatable), e.g. small index pages
    /// for a test: `--parameter IndexPageSize=4`.
    #[arg(long = "parameter", value_parser = parse_parameter)]
    parameters: Vec<(String, String)>,
    /// What started this stack (a test's name), written into every recorded AWS request.
    #[arg(long, env = "DEVSTACK_LABEL")]
    label: Option<String>,
}

fn parse_parameter(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: expected Name=Value"))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{name:?}: a template parameter name is letters and digits"
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}

impl Default for UpArgs {
    fn default() -> Self {
        UpArgs {
            state_dir: ".devstack".into(),
            port: 4566,
            client_port: 5173,
            client_dir: None,
            purge_interval: 5,
            parameters: Vec::new(),
            label: None,
        }
    }
}

pub const REGION: &str = "us-east-1";

#[tokio::main]
async fn main() -> Result<()> {
    media_core::telemetry::init();
    match Cli::parse()
        .command
        .unwrap_or(Command::Up(UpArgs::default()))
    {
        Command::Up(args) => up(args).await,
        Command::Invoke {
            function,
            event,
            state_dir,
        } => {
            let stack = read_stack(&state_dir)?;
            let event: serde_json::Value =
                serde_json::from_str(&event).context("the event is not JSON")?;
            let answer = invoke::invoke(&stack, &function, event).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(())
        }
    }
}

fn read_stack(state_dir: &Path) -> Result<StackInfo> {
    let path = state_dir.join("stack.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no running stack: {} is missing (start one with `make dev`)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}

/// The emulator's port, reserved (see `reserve_port`). With `0` (any free port), a state
/// directory's emulator gets the port it had before when that is free: the emulator writes its
/// address into the queue URLs it keeps (measured on ministack 1.5.33: after a restart on
/// another port the queue event-source mappings stopped delivering), so a stack stays on its
/// port.
fn emulator_port(requested: u16, state_dir: &Path) -> Result<std::net::TcpListener> {
    saved_port(requested, state_dir, "port", "emulator")
}

/// A port kept across restarts in `{state_dir}/emulator/{file}` (see `emulator_port`).
fn saved_port(
    requested: u16,
    state_dir: &Path,
    file: &str,
    what: &str,
) -> Result<std::net::TcpListener> {
    let saved = state_dir.join("emulator").join(file);
    let previous = std::fs::read_to_string(&saved)
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok());
    let reserved = match (requested, previous) {
        (0, Some(previous)) => reserve_port(previous, what).or_else(|_| reserve_port(0, what))?,
        _ => reserve_port(requested, what)?,
    };
    std::fs::create_dir_all(state_dir.join("emulator"))?;
    std::fs::write(&saved, reserved.local_addr()?.port().to_string())?;
    Ok(reserved)
}

/// A std listener reserved by `reserve_port`, handed to tokio.
fn serving(reserved: std::net::TcpListener) -> Result<tokio::net::TcpListener> {
    reserved.set_nonblocking(true)?;
    Ok(tokio::net::TcpListener::from_std(reserved)?)
}

async fn up(args: UpArgs) -> Result<()> {
    std::fs::create_dir_all(&args.state_dir)?;
    let state_dir = args.state_dir.canonicalize()?;
    let stack_file = state_dir.join("stack.json");
    let _ = std::fs::remove_file(&stack_file);

    // Every port is held from the moment it is chosen, so no two of them can be the same.
    let emulator_reservation = emulator_port(args.port, &state_dir)?;
    let port = emulator_reservation.local_addr()?.port();
    let client_listener = serving(reserve_port(args.client_port, "web client")?)?;
    let client_url = format!("http://127.0.0.1:{}", client_listener.local_addr()?.port());

    // The stack's AWS endpoint (stack.json, the functions' AWS_ENDPOINT_URL) is the recording
    // proxy in front of the emulator; the functions keep it across restarts like the emulator's.
    let proxy_listener = serving(saved_port(
        if args.port == 0 {
            0
        } else {
            args.port.saturating_add(1)
        },
        &state_dir,
        "proxy-port",
        "AWS proxy",
    )?)?;
    let proxy_port = proxy_listener.local_addr()?.port();
    let endpoint = format!("http://127.0.0.1:{proxy_port}");

    tracing::info!(port, proxy_port, state_dir = %state_dir.display(), "starting the emulator");
    drop(emulator_reservation);
    let mut emulator = Emulator::start(port, &state_dir, &endpoint).await?;
    let sdk =
        media_core::aws::sdk_config_for_endpoint(&emulator.endpoint, REGION, "test", "test").await;
    let parameters = deploy::LocalParameters {
        client_origin: client_url.clone(),
        purge_interval_minutes: args.purge_interval,
        face_model_path: deploy::local_face_model(),
        overrides: args.parameters.clone(),
    };
    let deployed = deploy::deploy(&sdk, &emulator.endpoint, &parameters).await?;
    let stack = deploy::stack_info(&deployed, &endpoint, &client_url)?;
    let description = deploy::describe(&sdk).await?;
    let label = args.label.clone().unwrap_or_else(|| {
        state_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    let record = proxy::StackRecord {
        label,
        stack_id: description["stackId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        account: description["account"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        description,
        harness_key: stack.access_key_id.clone(),
    };
    let recorder = proxy::Proxy::new(emulator.endpoint.clone(), record, &state_dir, proxy_port)?;
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(proxy::serve(proxy_listener, recorder, shutdown.clone()));
    // The repair pass at every start: the emulator does not keep stream records across a
    // restart (docs/emulator.md, "Gaps devstack works around"), and events sent while it was down
    // are lost; repair sends those again and rebuilds every index from the table.
    let repaired = invoke::invoke(&stack, "repair", serde_json::json!({}))
        .await
        .context("the start-up repair pass")?;
    tracing::info!(events_sent = %repaired["eventsSent"], indexes_written = %repaired["indexesWritten"], "start-up repair pass done");

    let client_dir = args
        .client_dir
        .clone()
        .unwrap_or_else(|| repo_root().join("client/dist"));
    tasks.spawn(serve::serve_client(
        client_listener,
        client_dir,
        stack.client_config(),
        shutdown.clone(),
    ));

    let temporary = stack_file.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(&stack)?)?;
    std::fs::rename(&temporary, &stack_file)?;
    println!("media-sharing is running: open {client_url}");
    println!("stack: {}", stack_file.display());

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut health = tokio::time::interval(std::time::Duration::from_secs(2));
    let result = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = terminate.recv() => break Ok(()),
            _ = health.tick() => {
                if let Some(status) = emulator.exited() {
                    break Err(anyhow::anyhow!("the emulator exited unexpectedly ({status}); see {}", state_dir.join("emulator.log").display()));
                }
            }
            Some(done) = tasks.join_next() => {
                if let Ok(Err(err)) = done {
                    break Err(err.context("a devstack task failed"));
                }
            }
        }
    };
    tracing::info!("shutting down");
    shutdown.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    let _ = std::fs::remove_file(&stack_file);
    emulator.stop().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_state_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("devstack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_reserved_port_stays_taken_until_the_reservation_is_dropped() {
        let state_dir = scratch_state_dir("reserved");
        let emulator = emulator_port(0, &state_dir).unwrap();
        let port = emulator.local_addr().unwrap().port();
        assert!(
            reserve_port(port, "another stack").is_err(),
            "port {port} was free while reserved for the emulator"
        );
        let proxy = saved_port(0, &state_dir, "proxy-port", "AWS proxy").unwrap();
        assert_ne!(proxy.local_addr().unwrap().port(), port);
        drop(emulator);
        drop(reserve_port(port, "the emulator").unwrap());
        std::fs::remove_dir_all(&state_dir).unwrap();
    }

    #[test]
    fn a_stack_keeps_its_port_and_moves_only_when_it_is_taken() {
        let state_dir = scratch_state_dir("saved");
        let first = emulator_port(0, &state_dir).unwrap();
        let port = first.local_addr().unwrap().port();
        drop(first);
        let again = emulator_port(0, &state_dir).unwrap();
        assert_eq!(again.local_addr().unwrap().port(), port);
        let moved = emulator_port(0, &state_dir).unwrap();
        let moved_to = moved.local_addr().unwrap().port();
        assert_ne!(
            moved_to, port,
            "the saved port is held, so another is chosen"
        );
        assert_eq!(
            std::fs::read_to_string(state_dir.join("emulator/port")).unwrap(),
            moved_to.to_string()
        );
        drop((again, moved));
        std::fs::remove_dir_all(&state_dir).unwrap();
    }
}
