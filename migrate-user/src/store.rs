//! The book's users table (`SampleAuthUsers` by default), read-only: the port and its DynamoDB
//! adapter.
//!
//! The book's `createUser` writes `email` (S, the key), `passwordHash` and `passwordSalt` (S,
//! base64), `verified` (BOOL) and a `verifyToken`; this function reads the first four only.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
pub use media_core::ports::StoreError;

/// The attributes a GetItem asks for; the function's role may read no others.
pub const ATTRIBUTES: [&str; 4] = ["email", "passwordHash", "passwordSalt", "verified"];

/// A user of the book's authentication service.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyUser {
    pub email: String,
    /// Base64 of the 512-byte PBKDF2 key; empty when the item has none.
    pub password_hash: String,
    /// The base64 text `computeHash` salted with; empty when the item has none.
    pub password_salt: String,
    /// The user confirmed their email with the book's verification link.
    pub verified: bool,
}

/// Without the hash and the salt, so a user printed in a log or a failed assertion gives
/// nothing away.
impl fmt::Debug for LegacyUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyUser")
            .field("email", &self.email)
            .field("password_hash", &"<redacted>")
            .field("password_salt", &"<redacted>")
            .field("verified", &self.verified)
            .finish()
    }
}

/// Where the book's users are.
#[async_trait]
pub trait LegacyUsers: Send + Sync {
    /// The user whose key is exactly `email`, or `None` when there is none.
    async fn user(&self, email: &str) -> Result<Option<LegacyUser>, StoreError>;
}

/// The book's table through the DynamoDB API.
#[derive(Clone, Debug)]
pub struct DynamoLegacyUsers {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLegacyUsers {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoLegacyUsers {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl LegacyUsers for DynamoLegacyUsers {
    async fn user(&self, email: &str) -> Result<Option<LegacyUser>, StoreError> {
        // Consistent: a user the book's service just verified signs in as verified. The
        // projection keeps verifyToken (a live secret of the old service) out of this function,
        // and the role's dynamodb:Attributes condition refuses any wider read.
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("email", AttributeValue::S(email.to_owned()))
            .consistent_read(true)
            .projection_expression("#email, #hash, #salt, #verified")
            .expression_attribute_names("#email", ATTRIBUTES[0])
            .expression_attribute_names("#hash", ATTRIBUTES[1])
            .expression_attribute_names("#salt", ATTRIBUTES[2])
            .expression_attribute_names("#verified", ATTRIBUTES[3])
            .send()
            .await
            // The table, never the email: the error ends up in logs.
            .map_err(|err| {
                StoreError::new("GetItem", &self.table, DisplayErrorContext(err).to_string())
            })?;
        Ok(output.item.map(|item| legacy_user(email, &item)))
    }
}

/// A user from an item. Missing or mistyped attributes read as empty (hash, salt) or false
/// (verified), which no password matches and no sign-in passes.
fn legacy_user(email: &str, item: &HashMap<String, AttributeValue>) -> LegacyUser {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    LegacyUser {
        email: item
            .get("email")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| email.to_owned()),
        password_hash: text("passwordHash"),
        password_salt: text("passwordSalt"),
        verified: item
            .get("verified")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_of_the_books_shape_reads_as_a_user() {
        let item = HashMap::from([
            (
                "email".to_owned(),
                AttributeValue::S("ann@example.com".into()),
            ),
            (
                "passwordHash".to_owned(),
                AttributeValue::S("aGFzaA==".into()),
            ),
            (
                "passwordSalt".to_owned(),
                AttributeValue::S("c2FsdA==".into()),
            ),
            ("verified".to_owned(), AttributeValue::Bool(true)),
        ]);
        let user = legacy_user("ann@example.com", &item);
        assert_eq!(user.email, "ann@example.com");
        assert_eq!(
            (
                user.password_hash.as_str(),
                user.password_salt.as_str(),
                user.verified
            ),
            ("aGFzaA==", "c2FsdA==", true)
        );
        let printed = format!("{user:?}");
        assert!(
            !printed.contains("aGFzaA==") && !printed.contains("c2FsdA=="),
            "{printed}"
        );
    }

    #[test]
    fn missing_or_mistyped_attributes_read_as_unusable() {
        let item = HashMap::from([
            (
                "email".to_owned(),
                AttributeValue::S("ann@example.com".into()),
            ),
            ("passwordHash".to_owned(), AttributeValue::N("1".into())),
            ("verified".to_owned(), AttributeValue::S("true".into())),
        ]);
        let user = legacy_user("ann@example.com", &item);
        assert_eq!(
            (
                user.password_hash.as_str(),
                user.password_salt.as_str(),
                user.verified
            ),
            ("", "", false)
        );
    }
}
