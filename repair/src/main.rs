//! The Lambda entry point: the schedule's event, `{}`, `{"dryRun": true}` or a continuation
//! in, the summary out. A pass that reaches its deadline hands its continuation to a new,
//! asynchronous invocation of this function.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use repair::RepairRequest;

/// Time kept back from the deadline to answer and hand over.
const HAND_OVER_MARGIN: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = std::sync::Arc::new(repair::from_env().await?);
    let lambda = aws_sdk_lambda::Client::new(&media_core::aws::sdk_config_from_env().await);
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (function, lambda) = (function.clone(), lambda.clone());
        async move {
            let request = RepairRequest::from_payload(event.payload)?;
            let until_deadline = UNIX_EPOCH + Duration::from_millis(event.context.deadline);
            let left = until_deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            let summary = function
                .run(
                    &request,
                    Instant::now() + left.saturating_sub(HAND_OVER_MARGIN),
                )
                .await?;
            if let Some(continuation) = &summary.continuation {
                let next = RepairRequest {
                    dry_run: request.dry_run,
                    continuation: Some(continuation.clone()),
                };
                lambda
                    .invoke()
                    .function_name(&event.context.invoked_function_arn)
                    .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                    .payload(aws_sdk_lambda::primitives::Blob::new(serde_json::to_vec(
                        &next,
                    )?))
                    .send()
                    .await
                    .map_err(|e| {
                        Error::from(aws_sdk_lambda::error::DisplayErrorContext(e).to_string())
                    })?;
                tracing::info!(?continuation, "handed over to a new invocation");
            }
            Ok::<_, Error>(serde_json::to_value(summary)?)
        }
    }))
    .await
}
