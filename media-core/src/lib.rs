//! The domain of the media-sharing application, shared by every function and the devstack.
//!
//! * [`keys`]: the bucket's key namespace; event keys are decoded here, once.
//! * [`metadata`]: the uploader's `x-amz-meta-data` header.
//! * [`item`]: the table's item and the attributes each function owns.
//! * [`imaging`]: decoding, orientation, thumbnails and encoding, within limits.
//! * [`index`]: the public and private indexes, and publishing them without regressing.
//! * [`events`]: S3 notifications as they arrive through SQS (raw or SNS-wrapped).
//! * [`derived`]: thumbnails and faces copies written and removed in event order.
//! * [`ports`]: the stores as traits; [`aws`]: their AWS adapters and client construction.
//! * `stack` (feature `testing`): the local stack's `stack.json`.
//! * `testing` (feature `testing`): in-memory stores with AWS's semantics and hand-made
//!   inputs, for tests and the local tooling; never compiled into a Lambda package.
//! * [`config`]: configuration from the environment; [`telemetry`]: structured logs.

pub mod aws;
pub mod config;
pub mod derived;
pub mod events;
pub mod imaging;
pub mod index;
pub mod item;
pub mod keys;
pub mod metadata;
pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod stack;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use aws_lambda_events;
