use lambda_runtime::{service_fn, Error, LambdaEvent};
use media_core::aws_lambda_events::event::dynamodb::Event;

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = update_content_index::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let function = function.clone();
        async move { Ok::<_, Error>(function.handle_stream(event.payload).await) }
    }))
    .await
}
