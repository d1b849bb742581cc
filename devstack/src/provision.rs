//! Creates every resource of the system on the emulator, idempotently: running it against a
//! stack that already has them changes nothing.

use std::collections::HashMap;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CorsConfiguration, CorsRule, CreateBucketConfiguration, Event, FilterRule, FilterRuleName,
    NotificationConfiguration, NotificationConfigurationFilter, S3KeyFilter, TopicConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

use media_core::aws::PUBLIC_BY_DAY_INDEX;

pub const BUCKET: &str = "media-sharing";
pub const TABLE: &str = "media-items";
pub const TOPIC: &str = "media-content-events";
pub const DEAD_LETTER_QUEUE: &str = "media-dead-letters";
pub const USER_POOL: &str = "media-users";
pub const USER_POOL_CLIENT: &str = "media-web";
pub const IDENTITY_POOL: &str = "media_identities";
/// Deliveries of a message before it goes to the dead-letter queue.
pub const MAX_RECEIVES: i32 = 3;
/// Seconds a received message stays invisible: short, so a failure is retried quickly.
pub const VISIBILITY_TIMEOUT: i32 = 10;

/// The S3-triggered functions, each with its own queue subscribed to the topic.
pub const S3_FUNCTIONS: [&str; 2] = ["content-updated", "face-detection"];

pub fn queue_name(function: &str) -> String {
    format!("media-{function}")
}

pub use media_core::stack::StackInfo;

/// Provisions everything and returns where it is. `client_url` goes into the info as is.
pub async fn provision(sdk: &SdkConfig, endpoint: &str, region: &str, client_url: &str) -> Result<StackInfo> {
    let s3 = media_core::aws::s3_client(sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);

    bucket(&s3, region).await.context("provisioning the bucket")?;
    let stream_arn = table(&dynamodb).await.context("provisioning the table")?;
    let (topic_arn, queue_urls, dead_letter_queue_url) = fan_out(&sns, &sqs).await.context("provisioning SNS and SQS")?;
    notifications(&s3, &topic_arn).await.context("configuring bucket notifications")?;
    let (user_pool_id, user_pool_client_id, identity_pool_id) =
        crate::cognito::provision(sdk, region).await.context("provisioning Cognito")?;

    Ok(StackInfo {
        endpoint: endpoint.to_owned(),
        region: region.to_owned(),
        bucket: BUCKET.to_owned(),
        table: TABLE.to_owned(),
        user_pool_id,
        user_pool_client_id,
        identity_pool_id,
        client_url: client_url.to_owned(),
        access_key_id: "test".to_owned(),
        secret_access_key: "test".to_owned(),
        s3_force_path_style: true,
        topic_arn,
        queue_urls,
        dead_letter_queue_url,
        stream_arn,
    })
}

async fn bucket(s3: &aws_sdk_s3::Client, region: &str) -> Result<()> {
    if s3.head_bucket().bucket(BUCKET).send().await.is_err() {
        let mut request = s3.create_bucket().bucket(BUCKET);
        if region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        request.send().await.context("CreateBucket")?;
    }
    let rule = CorsRule::builder()
        .allowed_origins("*")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_methods("POST")
        .allowed_methods("DELETE")
        .allowed_methods("HEAD")
        .allowed_headers("*")
        .expose_headers("ETag")
        .expose_headers("Last-Modified")
        .expose_headers("x-amz-meta-data")
        .max_age_seconds(3000)
        .build()?;
    s3.put_bucket_cors()
        .bucket(BUCKET)
        .cors_configuration(CorsConfiguration::builder().cors_rules(rule).build()?)
        .send()
        .await
        .context("PutBucketCors")?;
    Ok(())
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder().attribute_name(name).key_type(kind).build()?)
}

fn string_attribute(name: &str) -> Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()?)
}

/// Creates the table if missing; returns its stream's ARN.
async fn table(dynamodb: &aws_sdk_dynamodb::Client) -> Result<String> {
    let existing = dynamodb.describe_table().table_name(TABLE).send().await;
    let description = match existing {
        Ok(output) => output.table,
        Err(_) => {
            dynamodb
                .create_table()
                .table_name(TABLE)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(string_attribute("identityId")?)
                .attribute_definitions(string_attribute("objectKey")?)
                .attribute_definitions(string_attribute("uploadDay")?)
                .attribute_definitions(string_attribute("uploadDate")?)
                .key_schema(key("identityId", KeyType::Hash)?)
                .key_schema(key("objectKey", KeyType::Range)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(PUBLIC_BY_DAY_INDEX)
                        .key_schema(key("uploadDay", KeyType::Hash)?)
                        .key_schema(key("uploadDate", KeyType::Range)?)
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()?,
                )
                .stream_specification(
                    StreamSpecification::builder()
                        .stream_enabled(true)
                        .stream_view_type(StreamViewType::NewAndOldImages)
                        .build()?,
                )
                .send()
                .await
                .context("CreateTable")?
                .table_description
        }
    };
    // Tombstones expire as in the template (idempotent: setting the same TTL again is fine;
    // an emulator that refuses it only keeps tombstones longer).
    let ttl = aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
        .attribute_name("expiresAt")
        .enabled(true)
        .build()?;
    if let Err(err) = dynamodb.update_time_to_live().table_name(TABLE).time_to_live_specification(ttl).send().await {
        tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err), "UpdateTimeToLive");
    }
    description
        .and_then(|t| t.latest_stream_arn)
        .context("the table has no stream")
}

/// The topic, one queue per S3-triggered function subscribed to it, and the dead-letter queue.
async fn fan_out(sns: &aws_sdk_sns::Client, sqs: &aws_sdk_sqs::Client) -> Result<(String, HashMap<String, String>, String)> {
    let topic_arn = sns.create_topic().name(TOPIC).send().await.context("CreateTopic")?.topic_arn.context("no topic ARN")?;
    let dead_letter_url = sqs
        .create_queue()
        .queue_name(DEAD_LETTER_QUEUE)
        .send()
        .await
        .context("CreateQueue")?
        .queue_url
        .context("no queue URL")?;
    let dead_letter_arn = queue_arn(sqs, &dead_letter_url).await?;
    let redrive = serde_json::json!({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": MAX_RECEIVES.to_string()}).to_string();

    let subscriptions = sns.list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.context("ListSubscriptionsByTopic")?;
    let subscribed: Vec<String> =
        subscriptions.subscriptions().iter().filter_map(|s| s.endpoint().map(str::to_owned)).collect();

    let mut queue_urls = HashMap::new();
    for function in S3_FUNCTIONS {
        let url = sqs
            .create_queue()
            .queue_name(queue_name(function))
            .send()
            .await
            .context("CreateQueue")?
            .queue_url
            .context("no queue URL")?;
        let arn = queue_arn(sqs, &url).await?;
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]})
        .to_string();
        sqs.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::RedrivePolicy, &redrive)
            .attributes(QueueAttributeName::VisibilityTimeout, VISIBILITY_TIMEOUT.to_string())
            .attributes(QueueAttributeName::Policy, policy)
            .send()
            .await
            .context("SetQueueAttributes")?;
        if !subscribed.contains(&arn) {
            sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(&arn).send().await.context("Subscribe")?;
        }
        queue_urls.insert(function.to_owned(), url);
    }
    Ok((topic_arn, queue_urls, dead_letter_url))
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .context("GetQueueAttributes")?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .context("no queue ARN")
}

/// Two configurations, one per content prefix: they do not overlap, so AWS accepts them.
async fn notifications(s3: &aws_sdk_s3::Client, topic_arn: &str) -> Result<()> {
    let mut configuration = NotificationConfiguration::builder();
    for prefix in ["public/content/", "private/content/"] {
        configuration = configuration.topic_configurations(
            TopicConfiguration::builder()
                .id(format!("content-events-{}", prefix.split('/').next().unwrap_or_default()))
                .topic_arn(topic_arn)
                .events(Event::from("s3:ObjectCreated:*"))
                .events(Event::from("s3:ObjectRemoved:*"))
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(prefix).build()).build())
                        .build(),
                )
                .build()?,
        );
    }
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(configuration.build())
        .send()
        .await
        .context("PutBucketNotificationConfiguration")?;
    Ok(())
}
