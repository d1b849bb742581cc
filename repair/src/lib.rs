//! repair: brings thumbnails, previews, faces copies, items and indexes to the state the S3 events
//! would have produced, for when events were lost (a message dead-lettered, a function
//! down, a stream record past its retention).
//!
//! It never writes a derived object or an item itself. Each difference it finds becomes the
//! S3 event that was lost, sent to the queue of the function that owns the change, so the
//! same handler code that serves live uploads repairs it. The event carries a sequencer just
//! after everything already stored for the key ([`Sequencer::just_after`]): it wins over
//! what is there, and a real event arriving later still wins over it. Only the indexes are
//! rebuilt here, with the publisher update-content-index uses.
//!
//! The pass walks the bucket's `content/` prefixes, then the table, then the derived
//! prefixes (orphans), then rebuilds the public index, a page at a time: memory does not grow
//! with the bucket. Close to its deadline it stops and answers a continuation; the Lambda
//! entry point hands that to a new invocation of itself, so a bucket of any size is finished
//! over as many invocations as it takes.

use std::collections::BTreeSet;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use media_core::derived::stored_sequencer;
use media_core::events::s3_event_body;
use media_core::item::{ItemKey, MediaItem, Sequencer};
use media_core::keys::{ContentKey, Visibility};
use media_core::ports::{
    IndexItems, ItemPage, ListedObject, ObjectHead, ObjectStore, StoreError, TableScan,
};
use media_index::{IndexLimits, IndexPublisher, IndexTarget, Published};
use serde::{Deserialize, Serialize};

/// The function a repair event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    ContentUpdated,
    FaceDetection,
}

/// The S3-event queues of the functions.
#[async_trait]
pub trait ChangeQueue: Send + Sync {
    /// Sends these S3 notification bodies to `target`'s queue.
    async fn send(&self, target: Target, bodies: &[String]) -> Result<(), StoreError>;
}

/// What the caller asks: `{}` a whole pass, `{"dryRun": true}` one that only reports;
/// `continuation` resumes a pass. Any other field is refused, so a misspelt `dry_run` never
/// runs a real repair.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RepairRequest {
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub continuation: Option<Continuation>,
}

impl RepairRequest {
    /// The request an invocation's payload makes. An empty payload (`null`) is a whole pass;
    /// the daily schedule sends `{}` (its `Input` in `infra/template.yaml`: without it
    /// EventBridge would send its own "Scheduled Event" document, which is refused here).
    pub fn from_payload(payload: serde_json::Value) -> Result<Self, BadRequest> {
        match payload {
            serde_json::Value::Null => Ok(Self::default()),
            // serde would also take a struct from an array of its fields.
            serde_json::Value::Object(_) => serde_json::from_value(payload).map_err(BadRequest),
            other => Err(BadRequest(serde::de::Error::custom(format!(
                "expected an object, got {other}"
            )))),
        }
    }
}

/// A payload that is not a [`RepairRequest`]: the invocation fails and nothing is repaired.
#[derive(Debug, thiserror::Error)]
#[error("not a repair request ({{}}, {{\"dryRun\": true}} or a continuation): {0}")]
pub struct BadRequest(serde_json::Error);

/// Where a pass stopped: the step (by name, so a continuation in flight survives a release
/// that reorders or adds steps) and the position within it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Continuation {
    pub step: Step,
    pub list_token: Option<String>,
    pub after: Option<ItemKey>,
    /// The identity whose items the last table page ended with: its index is rebuilt once
    /// the scan has passed all of them (a scan returns one partition's items together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_identity: Option<String>,
}

/// One thing found (and, unless a dry run, sent for repair).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub key: String,
    pub problem: Problem,
    pub event: LostEvent,
    pub to: Target,
}

/// What the pass found wrong with one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Problem {
    /// An upload with no item: its create was lost.
    UploadWithoutItem,
    /// An upload whose item is a tombstone: its create was lost after an earlier deletion.
    UploadWithTombstone,
    /// An item without content-updated's attributes (face-detection's came first).
    ItemWithoutContentAttributes,
    MissingThumbnail,
    ThumbnailOfAnotherVersion,
    /// Also every item made before previews existed: the pass makes their previews.
    MissingPreview,
    PreviewOfAnotherVersion,
    NoFaceDetectionRecorded,
    MissingFacesCopy,
    /// An item whose upload is gone: its removal was lost.
    ItemOfDeletedUpload,
    /// A thumbnail, preview or faces copy whose upload is gone: its removal was lost.
    DerivedObjectOfDeletedUpload,
}

/// The S3 event a repair sends in place of the lost one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LostEvent {
    #[serde(rename = "ObjectCreated:Put")]
    Created,
    #[serde(rename = "ObjectRemoved:Delete")]
    Removed,
}

impl LostEvent {
    /// The event name S3 gives it.
    pub fn name(self) -> &'static str {
        match self {
            LostEvent::Created => "ObjectCreated:Put",
            LostEvent::Removed => "ObjectRemoved:Delete",
        }
    }
}

/// The answer: counts, the first actions, and a continuation when the pass is not done.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub dry_run: bool,
    pub done: bool,
    pub continuation: Option<Continuation>,
    pub objects_checked: usize,
    pub items_checked: usize,
    pub derived_checked: usize,
    pub events_sent: usize,
    pub indexes_written: usize,
    /// The first [`MAX_LISTED_ACTIONS`] actions (every one is also logged).
    pub actions: Vec<Action>,
    pub actions_total: usize,
}

pub const MAX_LISTED_ACTIONS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] media_index::IndexError),
}

/// The steps of a pass, in the order it walks them.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    #[default]
    PublicContent,
    PrivateContent,
    Table,
    PublicThumbnails,
    PrivateThumbnails,
    PublicPreviews,
    PrivatePreviews,
    PublicFaces,
    PrivateFaces,
    PublicIndex,
}

/// The prefixes whose objects are made from an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DerivedArea {
    Thumbnails,
    Previews,
    Faces,
}

impl DerivedArea {
    fn as_str(self) -> &'static str {
        match self {
            DerivedArea::Thumbnails => "thumbnails",
            DerivedArea::Previews => "previews",
            DerivedArea::Faces => "faces",
        }
    }
}

/// What a step walks.
enum Walk {
    Content(Visibility),
    Table,
    Derived(Visibility, DerivedArea),
    PublicIndex,
}

impl Step {
    const ALL: [Step; 10] = [
        Step::PublicContent,
        Step::PrivateContent,
        Step::Table,
        Step::PublicThumbnails,
        Step::PrivateThumbnails,
        Step::PublicPreviews,
        Step::PrivatePreviews,
        Step::PublicFaces,
        Step::PrivateFaces,
        Step::PublicIndex,
    ];

    /// The step after this one; `None` after the last.
    fn next(self) -> Option<Step> {
        let at = Step::ALL.iter().position(|s| *s == self)?;
        Step::ALL.get(at + 1).copied()
    }

    fn walk(self) -> Walk {
        use Visibility::{Private, Public};
        match self {
            Step::PublicContent => Walk::Content(Public),
            Step::PrivateContent => Walk::Content(Private),
            Step::Table => Walk::Table,
            Step::PublicThumbnails => Walk::Derived(Public, DerivedArea::Thumbnails),
            Step::PrivateThumbnails => Walk::Derived(Private, DerivedArea::Thumbnails),
            Step::PublicPreviews => Walk::Derived(Public, DerivedArea::Previews),
            Step::PrivatePreviews => Walk::Derived(Private, DerivedArea::Previews),
            Step::PublicFaces => Walk::Derived(Public, DerivedArea::Faces),
            Step::PrivateFaces => Walk::Derived(Private, DerivedArea::Faces),
            Step::PublicIndex => Walk::PublicIndex,
        }
    }
}

/// The function, over any stores and queue.
pub struct Repair<O, I, Q> {
    objects: O,
    items: I,
    queue: Q,
    limits: IndexLimits,
}

/// What is stored for one content key.
struct Stored {
    item: Option<MediaItem>,
    thumbnail: Option<ObjectHead>,
    preview: Option<ObjectHead>,
    faces: Option<ObjectHead>,
}

impl Stored {
    /// Just after every sequencer stored for the key: the repair event's.
    fn next_sequencer(&self) -> Sequencer {
        [
            self.item.as_ref().and_then(|i| i.sequencer.clone()),
            self.item.as_ref().and_then(|i| i.faces_sequencer.clone()),
            self.thumbnail.as_ref().and_then(stored_sequencer),
            self.preview.as_ref().and_then(stored_sequencer),
            self.faces.as_ref().and_then(stored_sequencer),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_else(|| Sequencer::new("0"))
        .just_after()
    }
}

impl<O: ObjectStore, I: IndexItems + TableScan, Q: ChangeQueue> Repair<O, I, Q> {
    pub fn new(objects: O, items: I, queue: Q, limits: IndexLimits) -> Self {
        Repair {
            objects,
            items,
            queue,
            limits,
        }
    }

    pub fn objects(&self) -> &O {
        &self.objects
    }

    pub fn items(&self) -> &I {
        &self.items
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    fn publisher(&self) -> IndexPublisher<'_, O, I> {
        IndexPublisher {
            objects: &self.objects,
            items: &self.items,
            limits: self.limits,
        }
    }

    /// Runs the pass from where `request` says until it is done or `deadline` is near.
    pub async fn run(
        &self,
        request: &RepairRequest,
        deadline: Instant,
    ) -> Result<Summary, RepairError> {
        let mut summary = Summary {
            dry_run: request.dry_run,
            ..Summary::default()
        };
        let mut at = request.continuation.clone().unwrap_or_default();
        loop {
            if Instant::now() >= deadline {
                tracing::info!(step = ?at.step, "deadline near: handing over");
                summary.continuation = Some(at);
                return Ok(summary);
            }
            let finished = match at.step.walk() {
                Walk::Content(visibility) => {
                    self.content_page(visibility, &mut at, &mut summary).await?
                }
                Walk::Table => self.table_page(&mut at, &mut summary).await?,
                Walk::Derived(visibility, area) => {
                    self.derived_page(visibility, area, &mut at, &mut summary)
                        .await?
                }
                Walk::PublicIndex => {
                    if !request.dry_run {
                        self.publish(&IndexTarget::Public, &mut summary).await?;
                    }
                    true
                }
            };
            if finished {
                match at.step.next() {
                    Some(step) => {
                        at = Continuation {
                            step,
                            ..Continuation::default()
                        }
                    }
                    None => break,
                }
            }
        }
        summary.done = true;
        tracing::info!(summary = %serde_json::to_string(&summary).unwrap_or_default(), "repair pass done");
        Ok(summary)
    }

    async fn publish(
        &self,
        target: &IndexTarget,
        summary: &mut Summary,
    ) -> Result<(), RepairError> {
        // Every page, then the head: what a lost stream record left behind anywhere.
        if let Published::Written { .. } = self.publisher().rebuild(target).await? {
            summary.indexes_written += 1;
            tracing::info!(index = target.key(), "index rewritten");
        }
        Ok(())
    }

    /// Records an action and, unless a dry run, sends its event.
    async fn act(
        &self,
        summary: &mut Summary,
        action: Action,
        sequencer: &Sequencer,
        event_time: DateTime<Utc>,
    ) -> Result<(), RepairError> {
        let Action {
            key,
            problem,
            event,
            to,
        } = &action;
        tracing::warn!(
            key,
            ?problem,
            event = event.name(),
            ?to,
            dry_run = summary.dry_run,
            "repair"
        );
        if !summary.dry_run {
            let body = s3_event_body(event.name(), key, sequencer, None, event_time, "repair");
            self.queue.send(*to, &[body]).await?;
            summary.events_sent += 1;
        }
        summary.actions_total += 1;
        if summary.actions.len() < MAX_LISTED_ACTIONS {
            summary.actions.push(action);
        }
        Ok(())
    }

    async fn stored(
        &self,
        key: &ContentKey,
        item: Option<MediaItem>,
    ) -> Result<Stored, RepairError> {
        let (thumbnail, preview) = if key.derived_keys_fit() {
            (
                self.objects.head(&key.thumbnail_key()).await?,
                self.objects.head(&key.preview_key()).await?,
            )
        } else {
            (None, None)
        };
        let faces = self.objects.head(&key.faces_key()).await?;
        Ok(Stored {
            item,
            thumbnail,
            preview,
            faces,
        })
    }

    /// One page of a `content/` prefix: every upload has a current item, thumbnail, preview
    /// and faces copy.
    async fn content_page(
        &self,
        visibility: Visibility,
        at: &mut Continuation,
        summary: &mut Summary,
    ) -> Result<bool, RepairError> {
        let prefix = format!("{}/content/", visibility.as_str());
        let page = self
            .objects
            .list_page(&prefix, at.list_token.take())
            .await?;
        let keys: Vec<(ContentKey, &ListedObject)> = page
            .objects
            .iter()
            .filter_map(|o| Some((ContentKey::parse(&o.key).ok()?, o)))
            .collect();
        let item_keys: Vec<ItemKey> = keys.iter().map(|(k, _)| ItemKey::from(k)).collect();
        let mut items = self.items.items_now(&item_keys).await?;
        for (key, listed) in &keys {
            summary.objects_checked += 1;
            let object_key = key.object_key();
            let item = items
                .iter()
                .position(|i| i.object_key == object_key)
                .map(|at| items.swap_remove(at));
            let stored = self.stored(key, item).await?;
            let time = listed.last_modified.unwrap_or_else(Utc::now);
            let sequencer = stored.next_sequencer();
            let (content, faces) = problems(&stored, key);
            for (problem, to) in [
                (content, Target::ContentUpdated),
                (faces, Target::FaceDetection),
            ] {
                if let Some(problem) = problem {
                    let action = Action {
                        key: object_key.clone(),
                        problem,
                        event: LostEvent::Created,
                        to,
                    };
                    self.act(summary, action, &sequencer, time).await?;
                }
            }
        }
        at.list_token = page.next;
        Ok(at.list_token.is_none())
    }

    /// One page of the table: every item's upload still exists (else its removal was lost),
    /// and each identity's private index is rebuilt once all its items have been seen.
    async fn table_page(
        &self,
        at: &mut Continuation,
        summary: &mut Summary,
    ) -> Result<bool, RepairError> {
        let ItemPage { items, next } = self.items.scan_page(at.after.take()).await?;
        let pending = at.pending_identity.take();
        let mut identities: BTreeSet<String> = pending.iter().cloned().collect();
        let mut days = BTreeSet::new();
        for item in &items {
            summary.items_checked += 1;
            identities.insert(item.identity_id.clone());
            if item.is_tombstone() {
                continue;
            }
            if let (true, Some(day)) = (item.is_public, item.upload_day.as_ref()) {
                days.insert(day.clone());
            }
            // A refused upload's item outlives its object on purpose: it tells the owner why.
            if item.refused.is_some() || self.objects.exists(&item.object_key).await? {
                continue;
            }
            let sequencer = item
                .sequencer
                .clone()
                .unwrap_or_else(|| Sequencer::new("0"))
                .just_after();
            let action = Action {
                key: item.object_key.clone(),
                problem: Problem::ItemOfDeletedUpload,
                event: LostEvent::Removed,
                to: Target::ContentUpdated,
            };
            self.act(summary, action, &sequencer, Utc::now()).await?;
        }
        if !summary.dry_run {
            for day in &days {
                self.items.mark_public_day(day).await?;
            }
        }
        // The last identity's items may go on in the next page: its index waits for them, so
        // a large collection is rebuilt once, not once per page of the scan.
        if next.is_some() {
            if let Some(last) = items.last().map(|i| i.identity_id.clone()).or(pending) {
                identities.remove(&last);
                at.pending_identity = Some(last);
            }
        }
        if !summary.dry_run {
            for identity in identities {
                self.publish(&IndexTarget::Private(identity), summary)
                    .await?;
            }
        }
        at.after = next;
        Ok(at.after.is_none())
    }

    /// One page of a derived prefix: every thumbnail, preview or faces copy belongs to an
    /// upload that exists (else its removal was lost).
    async fn derived_page(
        &self,
        visibility: Visibility,
        area: DerivedArea,
        at: &mut Continuation,
        summary: &mut Summary,
    ) -> Result<bool, RepairError> {
        let prefix = format!("{}/{}/", visibility.as_str(), area.as_str());
        let page = self
            .objects
            .list_page(&prefix, at.list_token.take())
            .await?;
        for listed in &page.objects {
            summary.derived_checked += 1;
            let object_key = format!(
                "{}/content/{}",
                visibility.as_str(),
                &listed.key[prefix.len()..]
            );
            let Ok(key) = ContentKey::parse(&object_key) else {
                continue;
            };
            if self.objects.exists(&object_key).await? {
                continue;
            }
            let item = self.items.items_now(&[ItemKey::from(&key)]).await?.pop();
            let stored = self.stored(&key, item).await?;
            let action = Action {
                key: object_key,
                problem: Problem::DerivedObjectOfDeletedUpload,
                event: LostEvent::Removed,
                to: Target::ContentUpdated,
            };
            self.act(summary, action, &stored.next_sequencer(), Utc::now())
                .await?;
        }
        at.list_token = page.next;
        Ok(at.list_token.is_none())
    }
}

/// What an existing upload lacks: content-updated's part, then face-detection's.
fn problems(stored: &Stored, key: &ContentKey) -> (Option<Problem>, Option<Problem>) {
    let Some(item) = stored.item.as_ref().filter(|i| !i.is_tombstone()) else {
        let problem = if stored.item.is_some() {
            Problem::UploadWithTombstone
        } else {
            Problem::UploadWithoutItem
        };
        return (Some(problem), Some(problem));
    };
    let content = if item.upload_date.is_none() {
        Some(Problem::ItemWithoutContentAttributes)
    } else if item.thumbnail_key.is_some() && stored.thumbnail.is_none() && key.derived_keys_fit() {
        Some(Problem::MissingThumbnail)
    } else if item.thumbnail_key.is_some()
        && stored
            .thumbnail
            .as_ref()
            .and_then(stored_sequencer)
            .is_some_and(|seq| Some(seq) != item.sequencer)
    {
        Some(Problem::ThumbnailOfAnotherVersion)
    } else if item.thumbnail_key.is_some() && stored.preview.is_none() && key.derived_keys_fit() {
        Some(Problem::MissingPreview)
    } else if item.thumbnail_key.is_some()
        && stored
            .preview
            .as_ref()
            .and_then(stored_sequencer)
            .is_some_and(|seq| Some(seq) != item.sequencer)
    {
        Some(Problem::PreviewOfAnotherVersion)
    } else {
        None
    };
    let faces = if item.faces_sequencer.is_none() {
        Some(Problem::NoFaceDetectionRecorded)
    } else if item.faces_key.is_some() && stored.faces.is_none() {
        Some(Problem::MissingFacesCopy)
    } else {
        None
    };
    (content, faces)
}

/// The functions' S3-event queues through SQS.
pub struct SqsChangeQueue {
    pub client: aws_sdk_sqs::Client,
    pub content_updated_url: String,
    pub face_detection_url: String,
}

#[async_trait]
impl ChangeQueue for SqsChangeQueue {
    async fn send(&self, target: Target, bodies: &[String]) -> Result<(), StoreError> {
        let url = match target {
            Target::ContentUpdated => &self.content_updated_url,
            Target::FaceDetection => &self.face_detection_url,
        };
        for body in bodies {
            self.client
                .send_message()
                .queue_url(url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| {
                    StoreError::new(
                        "SendMessage",
                        url,
                        aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
                    )
                })?;
        }
        Ok(())
    }
}

/// The function as deployed.
pub type AwsRepair =
    Repair<media_core::aws::S3ObjectStore, media_core::aws::DynamoItemStore, SqsChangeQueue>;

/// Builds the deployed function from the environment: `BUCKET_NAME`, `TABLE_NAME`,
/// `CONTENT_UPDATED_QUEUE_URL`, `FACE_DETECTION_QUEUE_URL`, `PUBLIC_INDEX_LIMIT`.
pub async fn from_env() -> Result<AwsRepair, media_core::config::ConfigError> {
    use media_core::config::required;
    let queue = SqsChangeQueue {
        client: aws_sdk_sqs::Client::new(&media_core::aws::sdk_config_from_env().await),
        content_updated_url: required("CONTENT_UPDATED_QUEUE_URL")?,
        face_detection_url: required("FACE_DETECTION_QUEUE_URL")?,
    };
    let limits = IndexLimits::from_env()?;
    let (objects, items) = media_core::aws::stores_from_env().await?;
    Ok(Repair::new(objects, items, queue, limits))
}
