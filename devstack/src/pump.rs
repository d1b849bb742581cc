//! Delivers queued S3 notifications to a function in-process, as Lambda's SQS event source
//! does: batches of up to 10, a message deleted only after it succeeded, a failing message
//! retried after its visibility timeout and moved to the dead-letter queue after
//! [`MAX_RECEIVES`] deliveries.

use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use media_core::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use tokio_util::sync::CancellationToken;

use crate::provision::MAX_RECEIVES;

/// Seconds before a failed message is delivered again.
const RETRY_DELAY_SECONDS: i32 = 1;

pub struct SqsPump {
    pub sqs: aws_sdk_sqs::Client,
    pub function: &'static str,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
}

impl SqsPump {
    pub async fn run<H, Fut>(self, handler: H, shutdown: CancellationToken)
    where
        H: Fn(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        while !shutdown.is_cancelled() {
            let received = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = self
                    .sqs
                    .receive_message()
                    .queue_url(&self.queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                    .send() => received,
            };
            let messages = match received {
                Ok(output) => output.messages.unwrap_or_default(),
                Err(err) => {
                    tracing::warn!(function = self.function, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "receive failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            let mut event = SqsEvent::default();
            for message in &messages {
                let mut record = SqsMessage::default();
                record.message_id = message.message_id.clone();
                record.receipt_handle = message.receipt_handle.clone();
                record.body = message.body.clone();
                record.event_source = Some("aws:sqs".into());
                event.records.push(record);
            }
            let response = handler(event).await;
            for message in messages {
                let id = message.message_id().unwrap_or_default();
                let receipt = message.receipt_handle().unwrap_or_default();
                let failed = response.batch_item_failures.iter().any(|f| f.item_identifier == id);
                if failed {
                    let receives: i32 = message
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1);
                    if receives < MAX_RECEIVES {
                        // Locally a retry need not wait out the whole visibility timeout.
                        let _ = self.sqs.change_message_visibility().queue_url(&self.queue_url).receipt_handle(receipt).visibility_timeout(RETRY_DELAY_SECONDS).send().await;
                        continue;
                    }
                    tracing::error!(function = self.function, message_id = id, receives, "moving a failing message to the dead-letter queue");
                    if let Err(err) = self
                        .sqs
                        .send_message()
                        .queue_url(&self.dead_letter_queue_url)
                        .message_body(message.body().unwrap_or_default())
                        .send()
                        .await
                    {
                        tracing::error!(function = self.function, message_id = id, error = %err, "dead-letter send failed; message kept");
                        continue;
                    }
                }
                if let Err(err) = self.sqs.delete_message().queue_url(&self.queue_url).receipt_handle(receipt).send().await {
                    tracing::warn!(function = self.function, message_id = id, error = %err, "delete failed; the message will be delivered again");
                }
            }
        }
    }
}
