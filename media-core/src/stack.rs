//! How anything finds a running local stack: the `stack.json` devstack writes once the
//! template is deployed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What `.devstack/stack.json` holds: the contract's fields, then what the tests and the
/// tooling need of the deployed stack (from its outputs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackInfo {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub table: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    pub identity_pool_id: String,
    pub client_url: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub s3_force_path_style: bool,
    /// The CloudFormation stack deployed from `infra/template.yaml`.
    pub stack_name: String,
    /// Deployed function name by crate name (`content-updated` -> `media-sharing-content-updated`).
    pub functions: BTreeMap<String, String>,
    /// S3-event queue by function.
    pub queue_urls: BTreeMap<String, String>,
    /// Dead-letter queue by function.
    pub dead_letter_queue_urls: BTreeMap<String, String>,
    /// Where stream batches update-content-index gave up on go.
    pub index_failures_queue_url: String,
    /// The largest upload kept and each person's storage quota, in bytes (the template's
    /// MaxImageBytes and StorageQuotaBytes).
    pub max_upload_bytes: u64,
    pub storage_quota_bytes: u64,
}

impl StackInfo {
    /// The web client's `config.json`: the stack without credentials or internals.
    pub fn client_config(&self) -> serde_json::Value {
        serde_json::json!({
            "endpoint": self.endpoint, "region": self.region, "bucket": self.bucket, "table": self.table,
            "userPoolId": self.user_pool_id, "userPoolClientId": self.user_pool_client_id,
            "identityPoolId": self.identity_pool_id, "s3ForcePathStyle": self.s3_force_path_style,
            "maxUploadBytes": self.max_upload_bytes, "storageQuotaBytes": self.storage_quota_bytes,
        })
    }
}
