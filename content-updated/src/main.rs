//! The Lambda entry point: an SQS batch of S3 notifications (or, called directly, an S3
//! event, raw or SNS-wrapped) in, the batch response out.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = content_updated::from_env().await?;
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            let batch = media_core::events::sqs_event_from_json(event.payload)?;
            Ok::<_, Error>(function.handle_sqs(batch).await)
        }
    }))
    .await
}
