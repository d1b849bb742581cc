//! The Lambda entry point: one function for both triggers. An event with `Records` is the
//! SQS batch of S3 notifications; anything else is a direct call.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = face_detection::from_env().await?;
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            function
                .handle_event(event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
