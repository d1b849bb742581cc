//! AWS adapters for the ports, and client construction.
//!
//! `AWS_ENDPOINT_URL` points every client at a local stack; S3 then uses path-style
//! addressing, which local emulators need.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_s3::primitives::DateTime as SmithyDateTime;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use chrono::{DateTime, Utc};

pub use crate::item::PUBLIC_DAYS_PARTITION;
use crate::item::{
    attributes, is_bookkeeping_partition, ContentAttributes, FaceAttributes, ItemKey, MediaItem,
    Sequencer, Tombstone,
};
use crate::ports::*;
use crate::text::TextCut;

/// Name of the sparse index of public items by day.
pub const PUBLIC_BY_DAY_INDEX: &str = "uploadDay-uploadDate-index";
/// Name of the index of each owner's items by date (keys only): one Query per private index page.
pub const BY_OWNER_INDEX: &str = "identityId-uploadDate-index";

/// The sort-key condition on `uploadDate` for a range, appended to a key condition, and its
/// values. BETWEEN is inclusive at both ends, so the range's exclusive lower bound is
/// filtered out by the caller ([`DateRange::contains`]).
fn date_condition(range: &DateRange) -> (String, HashMap<String, AttributeValue>) {
    let value = |v: &String| AttributeValue::S(v.clone());
    match (&range.after, &range.upto) {
        (None, None) => (String::new(), HashMap::new()),
        (Some(after), None) => (
            " AND uploadDate > :after".into(),
            HashMap::from([(":after".to_owned(), value(after))]),
        ),
        (None, Some(upto)) => (
            " AND uploadDate <= :upto".into(),
            HashMap::from([(":upto".to_owned(), value(upto))]),
        ),
        (Some(after), Some(upto)) => (
            " AND uploadDate BETWEEN :after AND :upto".into(),
            HashMap::from([
                (":after".to_owned(), value(after)),
                (":upto".to_owned(), value(upto)),
            ]),
        ),
    }
}

/// The configuration loader every client starts from, with the one HTTPS client of the
/// workspace: hyper 1 and rustls on *ring* (the SDK crates are built without their
/// `default-https-client`, which would link aws-lc as a second crypto library; Cargo.toml).
/// Certificates are the system's roots, as with the SDK's default client.
fn config_loader() -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(https)
}

/// Loads the SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`).
pub async fn sdk_config_from_env() -> SdkConfig {
    config_loader().load().await
}

/// A configuration for a local stack at `endpoint` with static credentials.
pub async fn sdk_config_for_endpoint(
    endpoint: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
) -> SdkConfig {
    config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            access_key, secret_key, None, None, "static",
        ))
        .load()
        .await
}

/// The bucket and the table the environment names (`BUCKET_NAME`, `TABLE_NAME`, and the SDK's
/// own variables, `AWS_ENDPOINT_URL` among them): what every function's `from_env` starts from.
pub async fn stores_from_env(
) -> Result<(S3ObjectStore, DynamoItemStore), crate::config::ConfigError> {
    let storage = crate::config::StorageConfig::from_env()?;
    let sdk = sdk_config_from_env().await;
    Ok((
        S3ObjectStore::new(s3_client(&sdk), storage.bucket),
        DynamoItemStore::new(dynamodb_client(&sdk), storage.table),
    ))
}

pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder =
        aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

fn to_chrono(time: Option<&SmithyDateTime>) -> Option<DateTime<Utc>> {
    time.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn http_status<E>(
    err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// An S3 error as a store error. A 403 names its likely cause: S3 hides whether a key exists
/// from callers without `s3:ListBucket`, so a missing key reads as AccessDenied to them.
fn s3_error<E: std::error::Error + 'static>(
    operation: &'static str,
    key: &str,
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> StoreError {
    let mut message = DisplayErrorContext(&err).to_string();
    if http_status(&err) == Some(403) {
        message.push_str(" (403: access denied, or a missing key asked by a caller without s3:ListBucket on the bucket)");
    }
    StoreError::new(operation, key, message)
}

fn object_head(
    content_type: Option<&str>,
    size: Option<i64>,
    metadata: Option<&HashMap<String, String>>,
    etag: Option<&str>,
    last_modified: Option<&SmithyDateTime>,
    storage_class: Option<&aws_sdk_s3::types::StorageClass>,
) -> ObjectHead {
    ObjectHead {
        content_type: content_type.map(str::to_owned),
        size: size.unwrap_or(0).max(0) as u64,
        metadata: metadata.cloned().unwrap_or_default(),
        etag: etag.map(str::to_owned),
        last_modified: to_chrono(last_modified),
        storage_class: storage_class.map(|class| class.as_str().to_owned()),
    }
}

/// The bucket through the S3 API.
#[derive(Clone, Debug)]
pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ObjectStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3ObjectStore {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl PresignGet for S3ObjectStore {
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, StoreError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(|e| StoreError::new("PresignGetObject", key, e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|err| {
                StoreError::new(
                    "PresignGetObject",
                    key,
                    DisplayErrorContext(&err).to_string(),
                )
            })?;
        Ok(request.uri().to_owned())
    }
}

/// Whether a conditional PutObject failed because another writer got there first, which
/// S3 answers as: 412 Precondition Failed (the key holds another version, or exists at all
/// for If-None-Match), 409 ConditionalRequestConflict (a concurrent conditional write won),
/// or, for If-Match, 404 NoSuchKey (the version read was deleted since). "How to prevent
/// object overwrites with conditional writes",
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
fn superseded<E>(
    condition: &Option<WriteCondition>,
    err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    matches!(
        (condition, http_status(err)),
        (Some(_), Some(412 | 409)) | (Some(WriteCondition::Matches(_)), Some(404))
    )
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn get_matching(
        &self,
        key: &str,
        if_match: Option<&str>,
        max_bytes: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_if_match(if_match.map(str::to_owned));
        let output = match request.send().await {
            Ok(output) => output,
            // 404: no such key (we hold s3:ListBucket); 412: the key holds another version.
            Err(err) if matches!(http_status(&err), Some(404) | Some(412)) => return Ok(None),
            // 403 InvalidObjectState: an archive storage class, unreadable until restored
            // (GetObject API reference, "Errors"). Its head says which class.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_invalid_object_state()) =>
            {
                return Ok(self
                    .head(key)
                    .await?
                    .map(|head| FetchedObject { head, body: None }));
            }
            Err(err) => return Err(s3_error("GetObject", key, err)),
        };
        let head = object_head(
            output.content_type(),
            output.content_length(),
            output.metadata(),
            output.e_tag(),
            output.last_modified(),
            output.storage_class(),
        );
        if head.size > max_bytes {
            return Ok(Some(FetchedObject { head, body: None }));
        }
        // The length header is checked above; the stream is capped too, in case it lies.
        let mut body = output.body;
        let mut bytes = Vec::with_capacity(head.size as usize);
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| StoreError::new("GetObject body", key, e.to_string()))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Ok(Some(FetchedObject { head, body: None }));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(FetchedObject {
            head,
            body: Some(bytes),
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(object_head(
                output.content_type(),
                output.content_length(),
                output.metadata(),
                output.e_tag(),
                output.last_modified(),
                output.storage_class(),
            ))),
            Err(err) if http_status(&err) == Some(404) => Ok(None),
            Err(err) => Err(s3_error("HeadObject", key, err)),
        }
    }

    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&object.key)
            .content_type(&object.content_type)
            .set_cache_control(object.cache_control.clone())
            .set_metadata((!object.metadata.is_empty()).then(|| object.metadata.clone()))
            .body(object.body.into());
        request = match &object.condition {
            None => request,
            Some(WriteCondition::Absent) => request.if_none_match("*"),
            Some(WriteCondition::Matches(etag)) => request.if_match(etag),
        };
        match request.send().await {
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(err) if superseded(&object.condition, &err) => Ok(WriteOutcome::Superseded),
            Err(err) => Err(s3_error("PutObject", &object.key, err)),
        }
    }

    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .if_match(etag)
            .send()
            .await
        {
            // 404: already gone, which is what was wanted.
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(err) if http_status(&err) == Some(404) => Ok(WriteOutcome::Applied),
            // 412: replaced since its head was read; 409: a concurrent write won.
            Err(err) if matches!(http_status(&err), Some(412) | Some(409)) => {
                Ok(WriteOutcome::Superseded)
            }
            Err(err) => Err(s3_error("DeleteObject", key, err)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| s3_error("DeleteObject", key, err))
    }

    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ObjectPage, StoreError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_continuation_token(continuation)
            .send()
            .await
            .map_err(|err| {
                StoreError::new(
                    "ListObjectsV2",
                    prefix,
                    DisplayErrorContext(&err).to_string(),
                )
            })?;
        let objects = output
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ListedObject {
                    key: o.key()?.to_owned(),
                    last_modified: to_chrono(o.last_modified()),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
            })
            .collect();
        let next = if output.is_truncated().unwrap_or(false) {
            output.next_continuation_token().map(str::to_owned)
        } else {
            None
        };
        Ok(ObjectPage { objects, next })
    }

    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let objects = keys
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::new("DeleteObjects", "request", e.to_string()))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| StoreError::new("DeleteObjects", "request", e.to_string()))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|err| {
                StoreError::new(
                    "DeleteObjects",
                    &self.bucket,
                    DisplayErrorContext(&err).to_string(),
                )
            })?;
        Ok(output
            .errors()
            .iter()
            .map(|e| {
                (
                    e.key().unwrap_or_default().to_owned(),
                    format!(
                        "{}: {}",
                        e.code().unwrap_or("Error"),
                        e.message().unwrap_or_default()
                    ),
                )
            })
            .collect())
    }
}

/// The table through the DynamoDB API.
#[derive(Clone, Debug)]
pub struct DynamoItemStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn key_attributes(key: &ItemKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "identityId".to_owned(),
            AttributeValue::S(key.identity_id.clone()),
        ),
        (
            "objectKey".to_owned(),
            AttributeValue::S(key.object_key.clone()),
        ),
    ])
}

fn dynamo_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    target: &str,
    err: aws_sdk_dynamodb::error::SdkError<E, R>,
) -> StoreError {
    StoreError::new(operation, target, DisplayErrorContext(&err).to_string())
}

fn is_conditional_check_failed<R>(
    err: &aws_sdk_dynamodb::error::SdkError<impl aws_sdk_dynamodb::error::ProvideErrorMetadata, R>,
) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// An update expression setting every attribute of `values` and removing `remove`.
#[derive(Default)]
struct UpdateExpression {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl UpdateExpression {
    fn new(values: HashMap<String, AttributeValue>, remove: &[&str]) -> Self {
        let mut update = UpdateExpression::default();
        let mut sorted: Vec<_> = values.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (index, (name, value)) in sorted.into_iter().enumerate() {
            let placeholder = update.placeholder(&name);
            update.values.insert(format!(":s{index}"), value);
            update.sets.push(format!("{placeholder} = :s{index}"));
        }
        for name in remove {
            let placeholder = update.placeholder(name);
            update.removes.push(placeholder);
        }
        update
    }

    /// The placeholder of an attribute name, one per name.
    fn placeholder(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#a{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    /// Also sets `target` to the item's `from` as it was before this update, or else to the
    /// `target` it already has, or else NULL. Every operand of an update expression reads the
    /// item as it was before the update, and an operand may be a document path or a function:
    /// `if_not_exists(path, operand)` is `path` when the item has it, else `operand` (DynamoDB
    /// developer guide, "Using update expressions in DynamoDB", SET; UpdateItem API reference,
    /// `UpdateExpression`). So `from` may be REMOVEd by the same update and is still read, in
    /// one atomic write under the update's condition. The NULL keeps the expression valid on an
    /// item that has neither (a path operand naming a missing attribute is a validation error).
    fn keeping(mut self, target: &str, from: &str) -> Self {
        let (target, from) = (self.placeholder(target), self.placeholder(from));
        self.values
            .insert(":unknown".to_owned(), AttributeValue::Null(true));
        self.sets.push(format!(
            "{target} = if_not_exists({from}, if_not_exists({target}, :unknown))"
        ));
        self
    }

    fn expression(&self) -> String {
        let mut expression = format!("SET {}", self.sets.join(", "));
        if !self.removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.removes.join(", ")));
        }
        expression
    }
}

impl DynamoItemStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoItemStore {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    async fn query_all(
        &self,
        mut request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: Option<usize>,
        target: &str,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let mut items = Vec::new();
        loop {
            let output = request
                .clone()
                .send()
                .await
                .map_err(|e| dynamo_error("Query", target, e))?;
            for raw in output.items() {
                match serde_dynamo::from_item::<_, MediaItem>(raw.clone()) {
                    Ok(item) => items.push(item),
                    Err(err) => {
                        tracing::warn!(target_name = target, error = %err, "skipping an item that does not parse")
                    }
                }
            }
            if limit.is_some_and(|limit| items.len() >= limit) {
                items.truncate(limit.unwrap_or(usize::MAX));
                return Ok(items);
            }
            match output.last_evaluated_key() {
                Some(last) if !last.is_empty() => {
                    request = request.set_exclusive_start_key(Some(last.clone()))
                }
                _ => return Ok(items),
            }
        }
    }
}

impl DynamoItemStore {
    /// One partition (`partition` = `value`) of a secondary index sorted by `uploadDate`, the
    /// dates in `range`, newest first, at most `limit` (`usize::MAX`: all).
    async fn query_dates(
        &self,
        index: &str,
        partition: &str,
        value: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        let (condition, mut values) = date_condition(range);
        values.insert(":p".to_owned(), AttributeValue::S(value.to_owned()));
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("#p = :p{condition}"))
            .expression_attribute_names("#p", partition)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false);
        let items = self
            .query_all(request, (limit != usize::MAX).then_some(limit), value)
            .await?;
        Ok(items
            .into_iter()
            .filter(|i| i.upload_date.as_deref().is_some_and(|d| range.contains(d)))
            .collect())
    }
}

/// Names of the attributes in `owned` that `values` leaves out: removed by the write.
fn left_out<'a>(
    owned: impl IntoIterator<Item = &'a &'static str>,
    values: &HashMap<String, AttributeValue>,
) -> Vec<&'static str> {
    owned
        .into_iter()
        .copied()
        .filter(|name| !values.contains_key(*name))
        .collect()
}

impl DynamoItemStore {
    /// An UpdateItem of `values` (removing `remove`) unless `guard` says a later event is in
    /// the item; `sequencer` is the event being written.
    async fn conditional_update(
        &self,
        key: &ItemKey,
        values: HashMap<String, AttributeValue>,
        remove: &[&str],
        guard: Guard,
        sequencer: &Sequencer,
    ) -> Result<WriteOutcome, StoreError> {
        self.guarded_update(key, UpdateExpression::new(values, remove), guard, sequencer)
            .await
    }

    /// An UpdateItem of `update` unless `guard` says a later event is in the item.
    async fn guarded_update(
        &self,
        key: &ItemKey,
        update: UpdateExpression,
        guard: Guard,
        sequencer: &Sequencer,
    ) -> Result<WriteOutcome, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .update_expression(update.expression())
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .expression_attribute_values(":seq", AttributeValue::S(sequencer.as_str().to_owned()))
            .condition_expression(guard.condition());
        for (placeholder, name) in guard.names() {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        match request.send().await {
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(err) if is_conditional_check_failed(&err) => Ok(WriteOutcome::Superseded),
            Err(err) => Err(dynamo_error("UpdateItem", &key.object_key, err)),
        }
    }
}

fn to_attributes<T: serde::Serialize>(
    value: &T,
    key: &ItemKey,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::new("UpdateItem", &key.object_key, e.to_string()))
}

/// Which write a conditional item write is, which decides what it must not overwrite. The
/// same event may be applied again.
#[derive(Clone, Copy)]
enum Guard {
    /// content-updated's writes of an upload: not over an upload event (or deletion) after
    /// this one.
    Content,
    /// content-updated's tombstones: not over a later event, nor over an item recording a
    /// refused upload (its own deletion must not erase why).
    Tombstone,
    /// face-detection's writes: not over a later event, a later face detection, or a refusal.
    Faces,
}

impl Guard {
    fn condition(self) -> &'static str {
        match self {
            Guard::Content => "attribute_not_exists(#seq) OR #seq <= :seq",
            Guard::Tombstone => "(attribute_not_exists(#seq) OR #seq <= :seq) AND attribute_not_exists(#refused)",
            Guard::Faces => {
                "(attribute_not_exists(#seq) OR #seq <= :seq) AND (attribute_not_exists(#fseq) OR #fseq <= :seq) \
                 AND attribute_not_exists(#refused)"
            }
        }
    }

    /// The placeholders its condition uses (DynamoDB refuses unused ones).
    fn names(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Guard::Content => &[("#seq", "sequencer")],
            Guard::Tombstone => &[("#seq", "sequencer"), ("#refused", "refused")],
            Guard::Faces => &[
                ("#seq", "sequencer"),
                ("#fseq", "facesSequencer"),
                ("#refused", "refused"),
            ],
        }
    }
}

impl DynamoItemStore {
    /// These attributes of one item, read consistently (`#a0`, `#a1`... in the projection);
    /// `None` when there is no item.
    async fn get_projected(
        &self,
        key: &ItemKey,
        attributes: &[&str],
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let placeholders: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
        let names = placeholders
            .iter()
            .zip(attributes)
            .map(|(placeholder, name)| (placeholder.clone(), (*name).to_owned()))
            .collect();
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .projection_expression(placeholders.join(", "))
            .set_expression_attribute_names(Some(names))
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", &key.object_key, e))?;
        Ok(output.item.filter(|item| !item.is_empty()))
    }
}

#[async_trait]
impl ContentItems for DynamoItemStore {
    async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
        let item = self.get_projected(key, &["sequencer"]).await?;
        Ok(item
            .as_ref()
            .and_then(|item| item.get("sequencer"))
            .and_then(|v| v.as_s().ok())
            .map(|s| Sequencer::new(s)))
    }

    async fn known_upload_date(&self, key: &ItemKey) -> Result<KnownUploadDate, StoreError> {
        // The key attribute too: an item whose other projected attributes are all absent
        // still comes back, so "live without a date" is told from "absent".
        let projected = ["identityId", "deleted", "uploadDate", "deletedUploadDate"];
        let Some(item) = self.get_projected(key, &projected).await? else {
            return Ok(KnownUploadDate::Absent);
        };
        // A NULL `deletedUploadDate` (no date was known) is not a string: `None`.
        let date = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Ok(match item.get("deleted").and_then(|v| v.as_bool().ok()) {
            Some(true) => KnownUploadDate::Deleted(date("deletedUploadDate")),
            _ => KnownUploadDate::Live(date("uploadDate")),
        })
    }

    async fn write_content(
        &self,
        key: &ItemKey,
        attributes: &ContentAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        let values = to_attributes(attributes, key)?;
        let remove = left_out(
            attributes::CONTENT.iter().chain(attributes::TOMBSTONE),
            &values,
        );
        self.conditional_update(key, values, &remove, Guard::Content, &attributes.sequencer)
            .await
    }

    async fn write_tombstone(
        &self,
        key: &ItemKey,
        tombstone: &Tombstone,
    ) -> Result<WriteOutcome, StoreError> {
        let values = to_attributes(tombstone, key)?;
        let remove = left_out(attributes::CONTENT.iter().chain(attributes::FACES), &values);
        let update =
            UpdateExpression::new(values, &remove).keeping("deletedUploadDate", "uploadDate");
        self.guarded_update(key, update, Guard::Tombstone, &tombstone.sequencer)
            .await
    }
}

#[async_trait]
impl FaceItems for DynamoItemStore {
    async fn write_faces(
        &self,
        key: &ItemKey,
        attributes: &FaceAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        let values = to_attributes(attributes, key)?;
        let remove = left_out(attributes::FACES, &values);
        // Not after a later upload or its deletion (`sequencer`, content-updated's), nor
        // after a later detection (`facesSequencer`).
        self.conditional_update(
            key,
            values,
            &remove,
            Guard::Faces,
            &attributes.faces_sequencer,
        )
        .await
    }
}

#[async_trait]
impl TextBounds for DynamoItemStore {
    /// One UpdateItem: `SET #t0 = :cut0, ...` conditioned on `#t0 = :was0 AND ...`, so it applies
    /// only while each attribute still holds exactly the value the stream showed; otherwise
    /// DynamoDB refuses it with ConditionalCheckFailedException and changes nothing (DynamoDB
    /// developer guide, "Condition expressions"). A deleted item (no attribute, or no item)
    /// fails the condition too, so no item is ever re-created. Key, update and condition name
    /// only `identityId`, `objectKey`, `title` and `description`: the `dynamodb:Attributes`
    /// the role's grant allows.
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError> {
        if cuts.is_empty() {
            return Ok(WriteOutcome::Applied);
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::None);
        let (mut sets, mut conditions) = (Vec::new(), Vec::new());
        for (n, cut) in cuts.iter().enumerate() {
            request = request
                .expression_attribute_names(format!("#t{n}"), cut.field.attribute())
                .expression_attribute_values(
                    format!(":cut{n}"),
                    AttributeValue::S(cut.bounded.clone()),
                )
                .expression_attribute_values(
                    format!(":was{n}"),
                    AttributeValue::S(cut.stored.clone()),
                );
            sets.push(format!("#t{n} = :cut{n}"));
            conditions.push(format!("#t{n} = :was{n}"));
        }
        let request = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(conditions.join(" AND "));
        match request.send().await {
            Ok(_) => Ok(WriteOutcome::Applied),
            Err(err) if is_conditional_check_failed(&err) => Ok(WriteOutcome::Superseded),
            Err(err) => Err(dynamo_error("UpdateItem", &key.object_key, err)),
        }
    }
}

/// The size DynamoDB counts for an item, in bytes (DynamoDB developer guide, "DynamoDB item
/// sizes and formats"): each attribute's name and value, UTF-8 strings by their bytes, numbers
/// one byte per two significant digits plus one, booleans and nulls one byte, lists and maps
/// three bytes plus one per element plus their elements. What a read of the item costs follows
/// from it ("DynamoDB read and write operations": 4 KB per read unit).
pub fn item_size_bytes(item: &MediaItem) -> usize {
    let attributes: HashMap<String, AttributeValue> =
        serde_dynamo::to_item(item).unwrap_or_default();
    attributes
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// One byte per two significant digits (leading and trailing zeros trimmed), plus one.
fn number_size(number: &str) -> usize {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

#[async_trait]
impl IndexItems for DynamoItemStore {
    async fn owner_items_between(
        &self,
        identity_id: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.query_dates(BY_OWNER_INDEX, "identityId", identity_id, range, limit)
            .await
    }

    async fn public_items_of_day(
        &self,
        day: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.query_dates(PUBLIC_BY_DAY_INDEX, "uploadDay", day, range, limit)
            .await
    }

    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("identityId = :p AND objectKey < :day")
            .expression_attribute_values(":p", AttributeValue::S(PUBLIC_DAYS_PARTITION.to_owned()))
            .expression_attribute_values(":day", AttributeValue::S(day.to_owned()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("Query", PUBLIC_DAYS_PARTITION, e))?;
        Ok(output
            .items()
            .first()
            .and_then(|item| item.get("objectKey"))
            .and_then(|v| v.as_s().ok())
            .cloned())
    }

    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
        let key = ItemKey {
            identity_id: PUBLIC_DAYS_PARTITION.to_owned(),
            object_key: day.to_owned(),
        };
        let mut item = key_attributes(&key);
        item.insert(MARKED_AT.to_owned(), AttributeValue::S(now_iso()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| dynamo_error("PutItem", day, e))
    }

    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
        let key = ItemKey {
            identity_id: PUBLIC_DAYS_PARTITION.to_owned(),
            object_key: day.to_owned(),
        };
        let cutoff = (Utc::now()
            - chrono::Duration::seconds(crate::item::PUBLIC_DAY_GRACE_SECONDS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&key)))
            .condition_expression("attribute_not_exists(#m) OR #m < :cutoff")
            .expression_attribute_names("#m", MARKED_AT)
            .expression_attribute_values(":cutoff", AttributeValue::S(cutoff))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_check_failed(&err) => Ok(false),
            Err(err) => Err(dynamo_error("DeleteItem", day, err)),
        }
    }

    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        let mut items = Vec::new();
        // BatchGetItem takes at most 100 keys per request.
        for chunk in keys.chunks(100) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(key_attributes).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::new("BatchGetItem", &self.table, e.to_string()))?;
            for attempt in 0.. {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, pending.clone())
                    .send()
                    .await
                    .map_err(|e| dynamo_error("BatchGetItem", &self.table, e))?;
                for raw in output
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Ok(item) = serde_dynamo::from_item::<_, MediaItem>(raw.clone()) {
                        items.push(item);
                    }
                }
                match output.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() && attempt < 8 => {
                        pending = rest.clone();
                        tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                    }
                    Some(rest) if !rest.keys().is_empty() => {
                        return Err(StoreError::new(
                            "BatchGetItem",
                            &self.table,
                            "keys left unprocessed after retries",
                        ))
                    }
                    _ => break,
                }
            }
        }
        Ok(items)
    }
}

#[async_trait]
impl TableScan for DynamoItemStore {
    async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError> {
        let output = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .set_exclusive_start_key(after.as_ref().map(key_attributes))
            .send()
            .await
            .map_err(|e| dynamo_error("Scan", &self.table, e))?;
        let items = output
            .items()
            .iter()
            .filter_map(|raw| serde_dynamo::from_item::<_, MediaItem>(raw.clone()).ok())
            .filter(|item| !is_bookkeeping_partition(&item.identity_id))
            .collect();
        let next = output
            .last_evaluated_key()
            .filter(|last| !last.is_empty())
            .and_then(|last| serde_dynamo::from_item::<_, ItemKey>(last.clone()).ok());
        Ok(ItemPage { items, next })
    }
}

/// When a public day's marker was last written.
const MARKED_AT: &str = "markedAt";

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_sizes_follow_dynamodbs_rules() {
        let key = MediaItem {
            identity_id: "ab".into(),
            object_key: "cd".into(),
            ..Default::default()
        };
        // identityId (10) + "ab", objectKey (9) + "cd", isPublic (8) + 1, title and description
        // (5 + 11, empty strings).
        let base = 10 + 2 + 9 + 2 + 8 + 1 + 5 + 11;
        assert_eq!(item_size_bytes(&key), base);
        let titled = MediaItem {
            title: "é".repeat(1_000),
            ..key.clone()
        };
        assert_eq!(item_size_bytes(&titled), base + 2_000, "UTF-8 bytes");
        // 4000: one significant digit; 12345: three pairs.
        let sized = MediaItem {
            width: Some(4000),
            size: Some(12345),
            ..key.clone()
        };
        assert_eq!(item_size_bytes(&sized), base + 5 + 2 + 4 + 4);
        let faces = MediaItem {
            faces: Some(vec![crate::item::FaceBox {
                x: 1,
                y: 22,
                w: 3,
                h: 4,
            }]),
            ..key
        };
        // A list of one map of four one- or two-digit numbers.
        assert_eq!(
            item_size_bytes(&faces),
            base + 5 + 3 + 1 + (3 + 4 * (1 + 1 + 2))
        );
    }
}
