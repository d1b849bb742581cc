//! Deterministic interleaving for race tests: [`StepHook`] runs an action (typically a
//! second handler, through [`block_on_elsewhere`]) just before the n-th store call of the first
//! handler, and [`Shared`] wraps a store so that every call of every store trait it implements
//! counts as a step. A test walks n from 0 until the first handler finishes first, so every
//! interleaving of the two is tried.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::item::*;
use crate::ports::*;
use crate::text::TextCut;

/// Runs one action at the n-th store call of a handler: a deterministic scheduler for
/// race tests, which can let another handler run to completion between any two of the
/// first handler's steps.
#[derive(Default)]
pub struct StepHook {
    calls: AtomicUsize,
    at: AtomicUsize,
    /// Counts object PUTs only (the writes a publisher makes), not every store call.
    puts_only: bool,
    action: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl StepHook {
    /// Runs `action` just before the `step`-th call (counting from 0).
    pub fn before_step(step: usize, action: impl FnOnce() + Send + 'static) -> Arc<Self> {
        let hook = StepHook::default();
        hook.at.store(step, Ordering::SeqCst);
        *hook.action.lock().unwrap() = Some(Box::new(action));
        Arc::new(hook)
    }

    /// Runs `action` just before the `put`-th object PUT (counting from 0), whatever the
    /// other calls in between.
    pub fn before_put(put: usize, action: impl FnOnce() + Send + 'static) -> Arc<Self> {
        let hook = StepHook {
            puts_only: true,
            ..StepHook::default()
        };
        hook.at.store(put, Ordering::SeqCst);
        *hook.action.lock().unwrap() = Some(Box::new(action));
        Arc::new(hook)
    }

    /// Store calls seen so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Whether the action has run.
    pub fn fired(&self) -> bool {
        self.action.lock().unwrap().is_none()
    }

    fn step(&self, is_put: bool) {
        if self.puts_only && !is_put {
            return;
        }
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n == self.at.load(Ordering::SeqCst) {
            let action = self.action.lock().unwrap().take();
            if let Some(action) = action {
                action();
            }
        }
    }
}

/// A shared store, optionally stepping a [`StepHook`] before each call of every store trait
/// it implements.
pub struct Shared<S> {
    pub inner: Arc<S>,
    pub hook: Option<Arc<StepHook>>,
}

impl<S> Shared<S> {
    pub fn new(inner: Arc<S>) -> Self {
        Shared { inner, hook: None }
    }

    pub fn hooked(inner: Arc<S>, hook: Arc<StepHook>) -> Self {
        Shared {
            inner,
            hook: Some(hook),
        }
    }

    fn step(&self) {
        if let Some(hook) = &self.hook {
            hook.step(false);
        }
    }

    fn step_put(&self) {
        if let Some(hook) = &self.hook {
            hook.step(true);
        }
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Shared<S> {
    async fn get_matching(
        &self,
        key: &str,
        if_match: Option<&str>,
        max: u64,
    ) -> Result<Option<FetchedObject>, StoreError> {
        self.step();
        self.inner.get_matching(key, if_match, max).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StoreError> {
        self.step();
        self.inner.head(key).await
    }
    async fn put(&self, object: PutObject) -> Result<WriteOutcome, StoreError> {
        self.step_put();
        self.inner.put(object).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.step();
        self.inner.delete(key).await
    }
    async fn delete_if_match(&self, key: &str, etag: &str) -> Result<WriteOutcome, StoreError> {
        self.step();
        self.inner.delete_if_match(key, etag).await
    }
    async fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
    ) -> Result<ObjectPage, StoreError> {
        self.step();
        self.inner.list_page(prefix, continuation).await
    }
    async fn delete_many(&self, keys: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.step();
        self.inner.delete_many(keys).await
    }
}

#[async_trait]
impl<S: PresignGet> PresignGet for Shared<S> {
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, StoreError> {
        self.step();
        self.inner.presign_get(key, expires_in).await
    }
}

#[async_trait]
impl<S: ContentItems> ContentItems for Shared<S> {
    async fn sequencer(&self, key: &ItemKey) -> Result<Option<Sequencer>, StoreError> {
        self.step();
        self.inner.sequencer(key).await
    }
    async fn write_content(
        &self,
        key: &ItemKey,
        a: &ContentAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        self.step();
        self.inner.write_content(key, a).await
    }
    async fn write_tombstone(
        &self,
        key: &ItemKey,
        t: &Tombstone,
    ) -> Result<WriteOutcome, StoreError> {
        self.step();
        self.inner.write_tombstone(key, t).await
    }
    async fn known_upload_date(&self, key: &ItemKey) -> Result<KnownUploadDate, StoreError> {
        self.step();
        self.inner.known_upload_date(key).await
    }
}

#[async_trait]
impl<S: FaceItems> FaceItems for Shared<S> {
    async fn write_faces(
        &self,
        key: &ItemKey,
        a: &FaceAttributes,
    ) -> Result<WriteOutcome, StoreError> {
        self.step();
        self.inner.write_faces(key, a).await
    }
}

#[async_trait]
impl<S: IndexItems> IndexItems for Shared<S> {
    async fn owner_items_between(
        &self,
        identity_id: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.step();
        self.inner
            .owner_items_between(identity_id, range, limit)
            .await
    }
    async fn public_items_of_day(
        &self,
        day: &str,
        range: &DateRange,
        limit: usize,
    ) -> Result<Vec<MediaItem>, StoreError> {
        self.step();
        self.inner.public_items_of_day(day, range, limit).await
    }
    async fn public_day_before(&self, day: &str) -> Result<Option<String>, StoreError> {
        self.step();
        self.inner.public_day_before(day).await
    }
    async fn mark_public_day(&self, day: &str) -> Result<(), StoreError> {
        self.step();
        self.inner.mark_public_day(day).await
    }
    async fn forget_public_day(&self, day: &str) -> Result<bool, StoreError> {
        self.step();
        self.inner.forget_public_day(day).await
    }
    async fn items_now(&self, keys: &[ItemKey]) -> Result<Vec<MediaItem>, StoreError> {
        self.step();
        self.inner.items_now(keys).await
    }
}

#[async_trait]
impl<S: TextBounds> TextBounds for Shared<S> {
    async fn cut_text(&self, key: &ItemKey, cuts: &[TextCut]) -> Result<WriteOutcome, StoreError> {
        self.step();
        self.inner.cut_text(key, cuts).await
    }
}

#[async_trait]
impl<S: TableScan> TableScan for Shared<S> {
    async fn scan_page(&self, after: Option<ItemKey>) -> Result<ItemPage, StoreError> {
        self.step();
        self.inner.scan_page(after).await
    }
}

/// Runs a future to completion on a runtime of its own, on another thread: how a
/// [`StepHook`] action runs a second handler from inside the first one's store call.
pub fn block_on_elsewhere<F: std::future::Future + Send>(future: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(future)
            })
            .join()
            .unwrap()
    })
}
