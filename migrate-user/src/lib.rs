//! migrate-user: Cognito's user-migration trigger for the users of the book's own
//! authentication service ("AWS Lambda in Action", chapters 8-10).
//!
//! It owns one decision: may this person, unknown to the user pool, become a user of it on the
//! strength of their account in the book's users table? Cognito asks it on a sign-in with a
//! password (`UserMigration_Authentication`) or a password reset
//! (`UserMigration_ForgotPassword`) by someone not in the pool, and creates the user when the
//! answer carries their attributes. From then on Cognito owns the account and never asks again;
//! the book's table is only ever read.
//!
//! * Sign-in: the password is checked exactly as the book's `computeHash` hashed it
//!   ([`password`]); a verified user with the right password comes back with `email`,
//!   `email_verified`, `finalUserStatus: CONFIRMED` and `messageAction: SUPPRESS` (no welcome
//!   message: they already have an account, as far as they know).
//! * Password reset: a verified user comes back with the same attributes and `SUPPRESS`, so
//!   Cognito can send the reset code to the (verified) email.
//! * Anything else (unknown user, wrong password, email never verified) is a function error
//!   with one message, [`REFUSED`], whichever it was, and takes as long either way: Cognito
//!   then creates nobody, and the person asking learns nothing about the old account. The log
//!   says which it was, as a category; never the email, the password, the hash or the salt.

pub mod password;
pub mod store;

use std::collections::HashMap;

use aws_lambda_events::event::cognito::CognitoEventUserPoolsMigrateUserTriggerSource as TriggerSource;
use serde::Deserialize;
use serde_json::Value;

pub use aws_lambda_events::event::cognito::CognitoEventUserPoolsMigrateUser as MigrateUserEvent;
use password::Verdict;
pub use store::{DynamoLegacyUsers, LegacyUser, LegacyUsers, StoreError};

/// The message of every refusal: Cognito's own answer to a wrong password, so a refused
/// migration reads like any failed sign-in.
pub const REFUSED: &str = "Incorrect username or password.";

/// Why a user was not migrated: for the log and for tests, never for the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownUser,
    WrongPassword,
    /// The user never followed the book's verification link.
    NotVerified,
    /// The item's hash or salt cannot be what the book wrote; no password can match.
    UnusableItem,
}

impl Refusal {
    /// The category logged.
    pub fn category(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::WrongPassword => "wrong_password",
            Refusal::NotVerified => "not_verified",
            Refusal::UnusableItem => "unusable_legacy_item",
        }
    }
}

/// Why an invocation failed. Lambda returns the message to Cognito, which may show it to the
/// person signing in: no message names the user, the table or a secret.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Not migrated. The same message for every reason.
    #[error("{}", REFUSED)]
    Refused(Refusal),
    /// Not an event of this trigger (or not one of its two sources).
    #[error("not a Cognito user-migration event: {0}")]
    MalformedEvent(String),
    /// The legacy table could not be read; the details are in the log.
    #[error("the legacy users table could not be read; try again")]
    Store(#[source] StoreError),
}

impl MigrateError {
    /// Lambda's `errorType` for this error: one for every refusal, like the message.
    pub fn error_type(&self) -> &'static str {
        match self {
            MigrateError::Refused(_) => "UserMigrationRefused",
            MigrateError::MalformedEvent(_) => "MalformedEvent",
            MigrateError::Store(_) => "LegacyStoreUnavailable",
        }
    }
}

/// Reads Lambda's JSON as the typed trigger event.
///
/// serde's messages quote the value they could not read, and the one value that must never
/// reach an error (which Lambda logs and returns to Cognito) is the password: when the event
/// does not read, it is read again with the password blanked out to say what is wrong.
pub fn parse_event(event: &Value) -> Result<MigrateUserEvent, MigrateError> {
    if let Ok(parsed) = MigrateUserEvent::deserialize(event) {
        return Ok(parsed);
    }
    let mut redacted = event.clone();
    if let Some(password) = redacted.pointer_mut("/request/password") {
        *password = Value::String("<redacted>".into());
    }
    Err(MigrateError::MalformedEvent(
        match MigrateUserEvent::deserialize(&redacted) {
            Ok(_) => "request.password is not a string".into(),
            Err(err) => err.to_string(),
        },
    ))
}

/// The function, over any store of the book's users.
pub struct MigrateUser<U> {
    users: U,
}

/// The function as deployed.
pub type AwsMigrateUser = MigrateUser<DynamoLegacyUsers>;

impl<U: LegacyUsers> MigrateUser<U> {
    pub fn new(users: U) -> Self {
        MigrateUser { users }
    }

    pub fn users(&self) -> &U {
        &self.users
    }

    /// Lambda's JSON in, the event with Cognito's `response` filled in out.
    pub async fn handle_json(&self, event: Value) -> Result<Value, MigrateError> {
        let answer = self.handle(parse_event(&event)?).await?;
        // Strings, maps and booleans only: serializing cannot fail.
        Ok(serde_json::to_value(answer).expect("a user-migration event serializes"))
    }

    /// Answers one trigger event: the same event, `response` filled in, or a refusal.
    pub async fn handle(
        &self,
        mut event: MigrateUserEvent,
    ) -> Result<MigrateUserEvent, MigrateError> {
        let header = &event.cognito_event_user_pools_header;
        let source = header
            .trigger_source
            .clone()
            .ok_or_else(|| MigrateError::MalformedEvent("no triggerSource".into()))?;
        let user_name = header
            .user_name
            .clone()
            .filter(|name| !name.is_empty())
            .ok_or_else(|| MigrateError::MalformedEvent("no userName".into()))?;
        let (trigger, outcome) = match &source {
            TriggerSource::Authentication => {
                let password = event
                    .cognito_event_user_pools_migrate_user_request
                    .password
                    .as_deref()
                    .ok_or_else(|| {
                        MigrateError::MalformedEvent(
                            "UserMigration_Authentication without request.password".into(),
                        )
                    })?;
                (
                    "UserMigration_Authentication",
                    self.authenticate(&user_name, password).await,
                )
            }
            TriggerSource::ForgotPassword => (
                "UserMigration_ForgotPassword",
                self.look_up(&user_name).await,
            ),
            // The enum is non-exhaustive; a source added to it later is not one this handles.
            other => {
                return Err(MigrateError::MalformedEvent(format!(
                    "triggerSource {other:?} is not handled"
                )))
            }
        };
        let user = match outcome {
            Ok(user) => user,
            Err(MigrateError::Refused(refusal)) => {
                if refusal == Refusal::UnusableItem {
                    tracing::warn!(
                        trigger,
                        reason = refusal.category(),
                        "user not migrated: the legacy item has no usable hash or salt"
                    );
                } else {
                    tracing::info!(trigger, reason = refusal.category(), "user not migrated");
                }
                return Err(MigrateError::Refused(refusal));
            }
            Err(MigrateError::Store(source)) => {
                // The operation, the table and the SDK's error; the answer says none of it.
                tracing::error!(trigger, error = %source, "user not migrated: the legacy table could not be read");
                return Err(MigrateError::Store(source));
            }
            Err(err) => return Err(err),
        };
        let response = &mut event.cognito_event_user_pools_migrate_user_response;
        response.user_attributes = HashMap::from([
            ("email".to_owned(), user.email),
            ("email_verified".to_owned(), user.verified.to_string()),
        ]);
        // They have an account already, as far as they know: no welcome message.
        response.message_action = Some("SUPPRESS".into());
        if matches!(source, TriggerSource::Authentication) {
            // Signed in with their old password: nothing left to confirm. A reset leaves the
            // status to Cognito (RESET_REQUIRED until the code is used).
            response.final_user_status = Some("CONFIRMED".into());
        }
        tracing::info!(trigger, "user migrated");
        Ok(event)
    }

    /// Sign-in: the user, if the password is theirs and they verified their email.
    async fn authenticate(&self, email: &str, password: &str) -> Result<LegacyUser, MigrateError> {
        let Some(user) = self.users.user(email).await.map_err(MigrateError::Store)? else {
            password::spend_the_same_time(password);
            return Err(MigrateError::Refused(Refusal::UnknownUser));
        };
        // The hash is checked before the verified flag (the book's login did the reverse), so
        // an unverified user's refusal takes as long as a wrong password's.
        match (
            password::verify(password, &user.password_salt, &user.password_hash),
            user.verified,
        ) {
            (Verdict::Matches, true) => Ok(user),
            (Verdict::Matches, false) => Err(MigrateError::Refused(Refusal::NotVerified)),
            (Verdict::DoesNotMatch, _) => Err(MigrateError::Refused(Refusal::WrongPassword)),
            (Verdict::Unusable, _) => Err(MigrateError::Refused(Refusal::UnusableItem)),
        }
    }

    /// Password reset: the user, if they verified their email. Cognito sends the reset code only
    /// to a verified address, and an unverified one was never proven to be theirs. The old
    /// hash plays no part: a user whose item has an unusable hash can still come over this way.
    async fn look_up(&self, email: &str) -> Result<LegacyUser, MigrateError> {
        match self.users.user(email).await.map_err(MigrateError::Store)? {
            None => Err(MigrateError::Refused(Refusal::UnknownUser)),
            Some(user) if !user.verified => Err(MigrateError::Refused(Refusal::NotVerified)),
            Some(user) => Ok(user),
        }
    }
}

/// Builds the deployed function: the book's table from `LEGACY_USERS_TABLE_NAME`.
pub async fn from_env() -> Result<AwsMigrateUser, media_core::config::ConfigError> {
    let table = media_core::config::required("LEGACY_USERS_TABLE_NAME")?;
    let sdk = media_core::aws::sdk_config_from_env().await;
    Ok(MigrateUser::new(DynamoLegacyUsers::new(
        media_core::aws::dynamodb_client(&sdk),
        table,
    )))
}
