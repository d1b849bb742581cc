//! How anything finds a running local stack: the `stack.json` devstack writes once ready.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// What `.devstack/stack.json` holds: how anything finds the stack.
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
    pub topic_arn: String,
    pub queue_urls: HashMap<String, String>,
    pub dead_letter_queue_url: String,
    pub stream_arn: String,
}

impl StackInfo {
    /// The web client's `config.json`: the stack without credentials or internals.
    pub fn client_config(&self) -> serde_json::Value {
        serde_json::json!({
            "endpoint": self.endpoint, "region": self.region, "bucket": self.bucket, "table": self.table,
            "userPoolId": self.user_pool_id, "userPoolClientId": self.user_pool_client_id,
            "identityPoolId": self.identity_pool_id, "s3ForcePathStyle": self.s3_force_path_style,
        })
    }
}
