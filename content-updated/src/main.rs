use lambda_runtime::{service_fn, Error, LambdaEvent};
use media_core::aws_lambda_events::event::sqs::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = content_updated::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let function = function.clone();
        async move { Ok::<_, Error>(function.handle_sqs(event.payload).await) }
    }))
    .await
}
