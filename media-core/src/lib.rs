//! The domain of the media-sharing application and its AWS adapters, shared by every
//! function and the devstack. Imaging lives in `media-imaging` (only the two image functions
//! link it), the indexes in `media-index` (update-content-index and repair).
//!
//! * [`keys`]: the bucket's key namespace; event keys are decoded here, once.
//! * [`metadata`]: the uploader's `x-amz-meta-data` header.
//! * [`text`]: an item's title and description and the contract's bounds on them.
//! * [`item`]: the table's item and the attributes each function owns.
//! * [`events`]: S3 notifications as they arrive through SQS (raw or SNS-wrapped).
//! * [`derived`]: thumbnails and faces copies written and removed in event order.
//! * [`ports`]: the stores as traits; [`aws`]: their AWS adapters and client construction.
//! * `stack` (feature `testing`): the local stack's `stack.json`.
//! * `testing` (feature `testing`): in-memory stores with AWS's semantics and event
//!   fixtures, for tests and the local tooling; never compiled into a Lambda package.
//! * [`config`]: configuration from the environment; [`telemetry`]: structured logs.

pub mod aws;
pub mod config;
pub mod derived;
pub mod events;
pub mod item;
pub mod keys;
pub mod metadata;
pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod stack;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

pub use aws_lambda_events;
