//! The domain of the media-sharing application, shared by every function and the devstack.
//!
//! * [`keys`]: the bucket's key namespace; event keys are decoded here, once.
//! * [`metadata`]: the uploader's `x-amz-meta-data` header.
//! * [`item`]: the table's item and the attributes each function owns.
//! * [`imaging`]: decoding, orientation, thumbnails and encoding, within limits.
//! * [`index`]: the public and private indexes, and publishing them without regressing.
//! * [`events`]: S3 notifications as they arrive through SQS (raw or SNS-wrapped).
//! * [`ports`]: the stores as traits; [`aws`]: their AWS adapters and client construction.
//! * [`stack`]: the local stack's `stack.json`.
//! * [`config`]: configuration from the environment; [`telemetry`]: structured logs.

pub mod aws;
pub mod config;
pub mod events;
pub mod imaging;
pub mod index;
pub mod item;
pub mod keys;
pub mod metadata;
pub mod ports;
pub mod stack;
pub mod telemetry;
pub mod testing;

pub use aws_lambda_events;
