//! The Lambda entry point: the schedule's event (or `{"dryRun": true}`) in, the report out.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = std::sync::Arc::new(purge_bucket::from_env().await?);
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            Ok::<_, Error>(serde_json::to_value(
                function.handle(&event.payload).await?,
            )?)
        }
    }))
    .await
}
