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

/// Where a pass stopped: the step and the position within it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Continuation {
    pub step: usize,
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
    pub problem: &'static str,
    pub event: &'static str,
    pub to: Target,
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

/// The walk, step by step.
const STEPS: [Step; 10] = [
    Step::Content(Visibility::Public),
    Step::Content(Visibility::Private),
    Step::Table,
    Step::Derived(Visibility::Public, "thumbnails"),
    Step::Derived(Visibility::Private, "thumbnails"),
    Step::Derived(Visibility::Public, "previews"),
    Step::Derived(Visibility::Private, "previews"),
    Step::Derived(Visibility::Public, "faces"),
    Step::Derived(Visibility::Private, "faces"),
    Step::PublicIndex,
];

#[derive(Clone, Copy)]
enum Step {
    Content(Visibility),
    Table,
    Derived(Visibility, &'static str),
    PublicIndex,
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
        while at.step < STEPS.len() {
            if Instant::now() >= deadline {
                tracing::info!(step = at.step, "deadline near: handing over");
                summary.continuation = Some(at);
                return Ok(summary);
            }
            let finished = match STEPS[at.step] {
                Step::Content(visibility) => {
                    self.content_page(visibility, &mut at, &mut summary).await?
                }
                Step::Table => self.table_page(&mut at, &mut summary).await?,
                Step::Derived(visibility, area) => {
                    self.derived_page(visibility, area, &mut at, &mut summary)
                        .await?
                }
                Step::PublicIndex => {
                    if !request.dry_run {
                        self.publish(&IndexTarget::Public, &mut summary).await?;
                    }
                    true
                }
            };
            if finished {
                at = Continuation {
                    step: at.step + 1,
                    ..Continuation::default()
                };
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
        key: &str,
        problem: &'static str,
        event: &'static str,
        to: Target,
        sequencer: &Sequencer,
        event_time: DateTime<Utc>,
    ) -> Result<(), RepairError> {
        tracing::warn!(key, problem, event, to = ?to, dry_run = summary.dry_run, "repair");
        summary.actions_total += 1;
        if summary.actions.len() < MAX_LISTED_ACTIONS {
            summary.actions.push(Action {
                key: key.to_owned(),
                problem,
                event,
                to,
            });
        }
        if !summary.dry_run {
            let body = s3_event_body(event, key, sequencer, None, event_time, "repair");
            self.queue.send(to, &[body]).await?;
            summary.events_sent += 1;
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
            if let Some(problem) = content {
                self.act(
                    summary,
                    &object_key,
                    problem,
                    "ObjectCreated:Put",
                    Target::ContentUpdated,
                    &sequencer,
                    time,
                )
                .await?;
            }
            if let Some(problem) = faces {
                self.act(
                    summary,
                    &object_key,
                    problem,
                    "ObjectCreated:Put",
                    Target::FaceDetection,
                    &sequencer,
                    time,
                )
                .await?;
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
            self.act(
                summary,
                &item.object_key,
                "item of a deleted upload",
                "ObjectRemoved:Delete",
                Target::ContentUpdated,
                &sequencer,
                Utc::now(),
            )
            .await?;
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
        area: &str,
        at: &mut Continuation,
        summary: &mut Summary,
    ) -> Result<bool, RepairError> {
        let prefix = format!("{}/{area}/", visibility.as_str());
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
            self.act(
                summary,
                &object_key,
                "derived object of a deleted upload",
                "ObjectRemoved:Delete",
                Target::ContentUpdated,
                &stored.next_sequencer(),
                Utc::now(),
            )
            .await?;
        }
        at.list_token = page.next;
        Ok(at.list_token.is_none())
    }
}

/// What an existing upload lacks: content-updated's part, then face-detection's.
fn problems(stored: &Stored, key: &ContentKey) -> (Option<&'static str>, Option<&'static str>) {
    let Some(item) = stored.item.as_ref().filter(|i| !i.is_tombstone()) else {
        let problem = if stored.item.is_some() {
            "upload with a tombstone: its create was lost"
        } else {
            "upload without an item"
        };
        return (Some(problem), Some(problem));
    };
    let content = if item.upload_date.is_none() {
        Some("item without content-updated's attributes")
    } else if item.thumbnail_key.is_some() && stored.thumbnail.is_none() && key.derived_keys_fit() {
        Some("missing thumbnail")
    } else if item.thumbnail_key.is_some()
        && stored
            .thumbnail
            .as_ref()
            .and_then(stored_sequencer)
            .is_some_and(|seq| Some(seq) != item.sequencer)
    {
        Some("thumbnail of another version than the item")
    } else if item.thumbnail_key.is_some() && stored.preview.is_none() && key.derived_keys_fit() {
        // Also every item made before previews existed: the pass makes their previews.
        Some("missing preview")
    } else if item.thumbnail_key.is_some()
        && stored
            .preview
            .as_ref()
            .and_then(stored_sequencer)
            .is_some_and(|seq| Some(seq) != item.sequencer)
    {
        Some("preview of another version than the item")
    } else {
        None
    };
    let faces = if item.faces_sequencer.is_none() {
        Some("no face detection recorded")
    } else if item.faces_key.is_some() && stored.faces.is_none() {
        Some("missing faces copy")
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
