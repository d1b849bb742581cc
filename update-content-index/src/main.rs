//! The Lambda entry point: a DynamoDB stream batch in, its batch item failures out. Called
//! directly with any other event (`{}`), it rebuilds every index from the table.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use media_core::aws_lambda_events::event::dynamodb::Event;

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = update_content_index::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            if event.payload.get("Records").is_some() {
                let batch: Event = serde_json::from_value(event.payload)?;
                return Ok::<_, Error>(serde_json::to_value(function.handle_stream(batch).await)?);
            }
            let published = function.reconcile().await?;
            let reconciled: std::collections::BTreeMap<String, String> = published
                .iter()
                .map(|(index, outcome)| (index.clone(), format!("{outcome:?}")))
                .collect();
            Ok(serde_json::json!({ "reconciled": reconciled }))
        }
    }))
    .await
}
