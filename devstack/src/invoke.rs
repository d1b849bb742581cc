//! `devstack invoke`: one function of the deployed stack called through the Lambda Invoke
//! API, as `aws lambda invoke` would.
//!
//! The contract has the command read the same environment variables as the function (for
//! example `PURGE_MAX_AGE_SECONDS`). A variable the function's configuration has and this
//! process sets differently is put into the function's configuration for the call and put
//! back afterwards.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, LastUpdateStatus};
use media_core::stack::StackInfo;

pub async fn invoke(
    stack: &StackInfo,
    function: &str,
    event: serde_json::Value,
) -> Result<serde_json::Value> {
    let name = stack.functions.get(function).with_context(|| {
        format!(
            "unknown function {function:?}: one of {}",
            stack
                .functions
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let sdk = media_core::aws::sdk_config_for_endpoint(
        &stack.endpoint,
        &stack.region,
        &stack.access_key_id,
        &stack.secret_access_key,
    )
    .await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);

    let configuration = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .context("GetFunctionConfiguration")?;
    let deployed: HashMap<String, String> = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    let mut wanted = deployed.clone();
    for (key, value) in wanted.iter_mut() {
        if let Ok(own) = std::env::var(key) {
            *value = own;
        }
    }
    let overridden = wanted != deployed;
    if overridden {
        set_environment(&lambda, name, wanted).await?;
    }
    let result = call(&lambda, name, &event).await;
    if overridden {
        set_environment(&lambda, name, deployed).await?;
    }
    result
}

async fn call(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    event: &serde_json::Value,
) -> Result<serde_json::Value> {
    let output = lambda
        .invoke()
        .function_name(name)
        .payload(Blob::new(serde_json::to_vec(event)?))
        .send()
        .await
        .map_err(sdk_error)
        .context("Invoke")?;
    let payload = output
        .payload()
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_slice(&payload).unwrap_or(
        serde_json::Value::String(String::from_utf8_lossy(&payload).into_owned()),
    );
    if let Some(error) = output.function_error() {
        bail!("{name} failed ({error}): {answer}");
    }
    Ok(answer)
}

async fn set_environment(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    variables: HashMap<String, String>,
) -> Result<()> {
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
        .map_err(sdk_error)
        .context("UpdateFunctionConfiguration")?;
    for _ in 0..100 {
        let status = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await?
            .last_update_status()
            .cloned();
        if !matches!(status, Some(LastUpdateStatus::InProgress)) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{name}'s configuration update did not finish")
}

/// An SDK error with its whole chain of causes in the message.
fn sdk_error<E: std::error::Error>(err: E) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_lambda::error::DisplayErrorContext(err))
}
