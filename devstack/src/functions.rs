//! Every function of the system, built once against the local stack, for the pumps and for
//! `devstack invoke`.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use aws_config::SdkConfig;
use media_core::aws::{dynamodb_client, s3_client, DynamoItemStore, S3ObjectStore};
use media_core::aws_lambda_events::event::dynamodb::Event as StreamEvent;
use media_core::aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use media_core::config::ImageLimits;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::provision::StackInfo;
use crate::pump::SqsPump;
use crate::stream::StreamPump;

pub struct Functions {
    pub content_updated: Arc<content_updated::AwsContentUpdated>,
    pub update_content_index: Arc<update_content_index::AwsUpdateContentIndex>,
    pub face_detection: Arc<face_detection::AwsFaceDetection>,
    pub purge_bucket: Arc<purge_bucket::PurgeBucket<S3ObjectStore>>,
}

/// Starts an SQS pump feeding `handler` from `function`'s queue.
fn spawn_sqs_pump<H, Fut>(tasks: &mut JoinSet<Result<()>>, sqs: &aws_sdk_sqs::Client, stack: &StackInfo, function: &'static str, handler: H, shutdown: CancellationToken) -> Result<()>
where
    H: Fn(SqsEvent) -> Fut + Send + 'static,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    let pump = SqsPump {
        sqs: sqs.clone(),
        function,
        queue_url: stack.queue_urls.get(function).with_context(|| format!("no {function} queue"))?.clone(),
        dead_letter_queue_url: stack.dead_letter_queue_url.clone(),
    };
    tasks.spawn(async move {
        pump.run(handler, shutdown).await;
        Ok(())
    });
    Ok(())
}

impl Functions {
    pub async fn connect(stack: &StackInfo) -> Result<Functions> {
        let sdk = media_core::aws::sdk_config_for_endpoint(&stack.endpoint, &stack.region, &stack.access_key_id, &stack.secret_access_key).await;
        let objects = S3ObjectStore::new(s3_client(&sdk), &stack.bucket);
        let items = DynamoItemStore::new(dynamodb_client(&sdk), &stack.table);
        let limits = ImageLimits::from_env()?;
        Ok(Functions {
            content_updated: Arc::new(content_updated::ContentUpdated::new(objects.clone(), items.clone(), limits)),
            update_content_index: Arc::new(update_content_index::UpdateContentIndex::new(
                objects.clone(),
                items.clone(),
                update_content_index::public_limit_from_env()?,
            )),
            // Same environment variables as the deployed functions (FACE_DETECTOR,
            // FACE_MODEL_PATH, PRESIGN_EXPIRY_SECONDS, PURGE_*).
            face_detection: Arc::new(face_detection::FaceDetection::new(
                objects.clone(),
                items.clone(),
                face_detection::detector_from_env()?,
                face_detection::Settings {
                    // Everything in devstack is on loopback, presigned links included.
                    allow_private_urls: true,
                    ..face_detection::Settings::from_env(stack.bucket.clone())?
                },
            )),
            purge_bucket: Arc::new(purge_bucket::PurgeBucket { store: objects.clone(), config: purge_bucket::PurgeConfig::from_env()? }),
        })
    }

    /// Starts a pump per queue-triggered function and the table's stream pump; rebuilds
    /// every index first, since the emulator does not keep stream records across restarts.
    pub async fn spawn_all(&self, stack: &StackInfo, sdk: &SdkConfig, state_dir: &Path, purge_interval: u64, shutdown: CancellationToken) -> Result<JoinSet<Result<()>>> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut tasks = JoinSet::new();

        let content_updated = self.content_updated.clone();
        spawn_sqs_pump(&mut tasks, &sqs, stack, "content-updated", move |event| {
            let f = content_updated.clone();
            async move { f.handle_sqs(event).await }
        }, shutdown.clone())?;

        let face_detection = self.face_detection.clone();
        spawn_sqs_pump(&mut tasks, &sqs, stack, "face-detection", move |event| {
            let f = face_detection.clone();
            async move { f.handle_sqs(event).await }
        }, shutdown.clone())?;

        tasks.spawn(purge_on_schedule(self.purge_bucket.clone(), purge_interval, shutdown.clone()));

        let reconciled = self.update_content_index.reconcile().await.context("reconciling the indexes with the table")?;
        tracing::info!(indexes = reconciled.len(), "indexes reconciled with the table");
        let stream = StreamPump {
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
            sqs: sqs.clone(),
            stream_arn: stack.stream_arn.clone(),
            dead_letter_queue_url: stack.dead_letter_queue_url.clone(),
            checkpoint_file: state_dir.join("stream-checkpoints.json"),
            region: stack.region.clone(),
        };
        let update_content_index = self.update_content_index.clone();
        tasks.spawn(stream.run(
            move |event: StreamEvent| {
                let f = update_content_index.clone();
                async move { f.handle_stream(event).await }
            },
            shutdown.clone(),
        ));
        Ok(tasks)
    }

    /// Calls a function directly, as `aws lambda invoke` would.
    pub async fn invoke(&self, function: &str, event: serde_json::Value) -> Result<serde_json::Value> {
        match function {
            "content-updated" => {
                let event = media_core::events::sqs_event_from_json(event)?;
                Ok(serde_json::to_value(self.content_updated.handle_sqs(event).await)?)
            }
            "update-content-index" => {
                if event.get("Records").is_some() {
                    let event: StreamEvent = serde_json::from_value(event).context("not a DynamoDB stream event")?;
                    Ok(serde_json::to_value(self.update_content_index.handle_stream(event).await)?)
                } else {
                    let published = self.update_content_index.reconcile().await?;
                    Ok(serde_json::json!({"reconciled": published.iter().map(|(k, v)| (k.clone(), format!("{v:?}"))).collect::<std::collections::BTreeMap<_, _>>()}))
                }
            }
            "face-detection" => Ok(self.face_detection.handle_event(event).await?),
            "purge-bucket" => Ok(serde_json::to_value(self.purge_bucket.handle(&event).await?)?),
            other => bail!("unknown function {other:?}: content-updated, face-detection, update-content-index or purge-bucket"),
        }
    }
}

/// Runs purge-bucket every `interval_seconds` (the cloud's hourly schedule, shortened), the
/// first run one interval after start. A failed run is logged; the next one starts over.
async fn purge_on_schedule(
    purge: Arc<purge_bucket::PurgeBucket<S3ObjectStore>>,
    interval_seconds: u64,
    shutdown: CancellationToken,
) -> Result<()> {
    let period = std::time::Duration::from_secs(interval_seconds.max(1));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = ticker.tick() => {
                let event = serde_json::json!({"source": "devstack.schedule"});
                if let Err(err) = purge.handle(&event).await {
                    tracing::error!(function = "purge-bucket", error = %err, "scheduled purge failed");
                }
            }
        }
    }
}
