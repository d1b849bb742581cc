//! Cold start of each function on a fresh devstack: the Invoke round trip that starts a new
//! execution environment (the emulator spawns the function's `bootstrap` behind its Lambda
//! Runtime API, the binary initialises and polls for its first event, handles it and
//! answers) against the same call to the environment that is then warm. The difference is
//! the process start and the initialisation: what a cold start adds to the first event.
//!
//! A configuration update gives each round a new environment, as on AWS ("the next
//! invocation after a function configuration update creates a new execution environment",
//! https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). The events
//! do no work (empty batches, dry runs, an unknown user), so what is timed is the start and
//! the runtime loop, not the handlers.
//!
//! `cargo run --release --example cold_start -- [ROUNDS]`; `DEVSTACK_PACKAGES_DIR` chooses the
//! packages devstack deploys (default `infra/build/local`). Run with `make -C bench cold-start`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Environment;
use e2e_tests::Stack;
use serde_json::{json, Value};

/// An event each function answers without touching data it would change.
fn idle_event(function: &str) -> Value {
    match function {
        "purge-bucket" | "repair" => json!({ "dryRun": true }),
        "migrate-user" => json!({
            "version": "1", "triggerSource": "UserMigration_ForgotPassword", "region": "us-east-1",
            "userPoolId": "us-east-1_AbCdEfGhI", "userName": "nobody@example.com",
            "callerContext": { "awsSdkVersion": "aws-sdk-js-3.0.0", "clientId": "1example23456789abcdefghij" },
            "request": { "validationData": null, "clientMetadata": {} },
            "response": {}
        }),
        _ => json!({ "Records": [] }),
    }
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

async fn invoke(lambda: &aws_sdk_lambda::Client, name: &str, event: &Value) -> Result<Duration> {
    let started = Instant::now();
    lambda
        .invoke()
        .function_name(name)
        .payload(Blob::new(serde_json::to_vec(event)?))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))
        .with_context(|| format!("invoking {name}"))?;
    // A function error (migrate-user refusing an unknown user) is still an event handled.
    Ok(started.elapsed())
}

/// A new execution environment for the next call: a changed environment variable.
async fn recycle(lambda: &aws_sdk_lambda::Client, name: &str, round: usize) -> Result<()> {
    let configuration = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await?;
    let mut variables = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    variables.insert("COLD_START_ROUND".into(), round.to_string());
    lambda
        .update_function_configuration()
        .function_name(name)
        .environment(
            Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))?;
    lambda
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(Duration::from_secs(60))
        .await
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))
        .with_context(|| format!("{name}'s configuration update"))?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let packages = std::env::var_os("DEVSTACK_PACKAGES_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("MEDIA_SHARE_ROOT")
                .map(|root| std::path::Path::new(&root).join("infra/build/local"))
        })
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/build/local")
        });
    let stack = Stack::start().await?;
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk);
    println!(
        "packages: {}; {rounds} rounds, median ms",
        packages.display()
    );
    println!(
        "| function | binary | cold: first event | warm: next event | cold start (difference) |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (function, name) in &stack.info.functions {
        let event = idle_event(function);
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            recycle(&lambda, name, round).await?;
            cold.push(invoke(&lambda, name, &event).await?);
            warm.push(invoke(&lambda, name, &event).await?);
        }
        let (cold, warm) = (median(&mut cold), median(&mut warm));
        // The binary itself: a bundled package's `bootstrap` is a script starting `bin/<name>`.
        let package = packages.join(function);
        let binary = [
            package.join("bin").join(function),
            package.join("bootstrap"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_default();
        let size = std::fs::metadata(binary)
            .map(|m| format!("{:.1} MB", m.len() as f64 / 1e6))
            .unwrap_or_default();
        println!(
            "| {function} | {size} | {} | {} | {} |",
            ms(cold),
            ms(warm),
            ms(cold.saturating_sub(warm))
        );
    }
    Ok(())
}
