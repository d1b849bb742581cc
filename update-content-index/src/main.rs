//! The Lambda entry point: a DynamoDB stream batch in, its batch item failures out. Any other
//! payload is refused; rebuilding every index is repair's job.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = update_content_index::from_env().await?;
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            let batch = update_content_index::stream_batch(event.payload)?;
            Ok::<_, Error>(serde_json::to_value(function.handle_stream(batch).await)?)
        }
    }))
    .await
}
