//! Every function of the system, built once against the local stack, for the pumps and for
//! `devstack invoke`.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_config::SdkConfig;
use media_core::aws::{dynamodb_client, s3_client, DynamoItemStore, S3ObjectStore};
use media_core::aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use media_core::config::ImageLimits;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::provision::StackInfo;
use crate::pump::SqsPump;

pub struct Functions {
    pub content_updated: Arc<content_updated::AwsContentUpdated>,
}

impl Functions {
    pub async fn connect(stack: &StackInfo) -> Result<Functions> {
        let sdk = media_core::aws::sdk_config_for_endpoint(&stack.endpoint, &stack.region, &stack.access_key_id, &stack.secret_access_key).await;
        let objects = S3ObjectStore::new(s3_client(&sdk), &stack.bucket);
        let items = DynamoItemStore::new(dynamodb_client(&sdk), &stack.table);
        let limits = ImageLimits::from_env()?;
        Ok(Functions { content_updated: Arc::new(content_updated::ContentUpdated::new(objects, items, limits)) })
    }

    /// Starts a pump per queue-triggered function.
    pub async fn spawn_all(&self, stack: &StackInfo, sdk: &SdkConfig, _purge_interval: u64, shutdown: CancellationToken) -> Result<JoinSet<Result<()>>> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut tasks = JoinSet::new();
        let content_updated = self.content_updated.clone();
        let pump = SqsPump {
            sqs: sqs.clone(),
            function: "content-updated",
            queue_url: stack.queue_urls.get("content-updated").context("no content-updated queue")?.clone(),
            dead_letter_queue_url: stack.dead_letter_queue_url.clone(),
        };
        let token = shutdown.clone();
        tasks.spawn(async move {
            pump.run(move |event| { let f = content_updated.clone(); async move { f.handle_sqs(event).await } }, token).await;
            Ok(())
        });
        // face-detection's queue is provisioned; its pump arrives with the function.
        Ok(tasks)
    }

    /// Calls a function directly, as `aws lambda invoke` would.
    pub async fn invoke(&self, function: &str, event: serde_json::Value) -> Result<serde_json::Value> {
        match function {
            "content-updated" => {
                let event = as_sqs_event(event)?;
                Ok(serde_json::to_value(self.content_updated.handle_sqs(event).await)?)
            }
            other => bail!("unknown function {other:?}: content-updated, face-detection, update-content-index or purge-bucket"),
        }
    }
}

/// Accepts an SQS event as is, or wraps an S3 event in one.
fn as_sqs_event(event: serde_json::Value) -> Result<SqsEvent> {
    let is_sqs = event["Records"][0]["eventSource"].as_str() == Some("aws:sqs");
    if is_sqs {
        return Ok(serde_json::from_value(event)?);
    }
    let mut message = SqsMessage::default();
    message.message_id = Some("invoke".into());
    message.body = Some(event.to_string());
    let mut sqs = SqsEvent::default();
    sqs.records.push(message);
    Ok(sqs)
}
