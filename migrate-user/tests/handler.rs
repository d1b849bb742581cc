//! The handler against an in-memory users table, driven by trigger events in the shape Cognito
//! sends (the "Migrate user Lambda trigger" page of the Cognito developer guide: the common
//! header, `request`, and a `response` whose fields arrive null).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use migrate_user::password::{self, hash_like_the_book, Verdict};
use migrate_user::{
    LegacyUser, LegacyUsers, MigrateError, MigrateUser, Refusal, StoreError, REFUSED,
};
use serde_json::{json, Value};

/// The book's `computeHash` for password "password" and the salt text below (the base64 of
/// bytes 0..=255 twice, 512 bytes like the book's random salt), computed independently:
///
/// python3 -c "import hashlib,base64; s=base64.b64encode(bytes(range(256))*2); print(base64.b64encode(hashlib.pbkdf2_hmac('sha512', b'password', s, 4096, 512)).decode())"
const PYTHON_VECTOR: &str = "LQaONwAeQV/Vtzm91eTCNrYFyn4EwDqyFRTcvSPe5pBXXrqwq4EQ4N7lPXsmk18nbFCuDy8+2JlQr3AdcIgJVYKSgT7+IQ8Kt7Bg/SRm+NztHHoBfa6K39lFM2gOGMpWdh0npJZgLI+8S2Q8FUr2664HPfepV/t302ggzbbNjK3DnQyJfMXawl9wNXMeh0BR6qjwSaJVmfpm8seQolOFGZvxG6ykkVLkbfJAN/GMQWgzwTJXC5ruoZ4qVRbu/X2HtT2SdugaXQIiIFaGt0XgoOl0qakNiNs8jUEX9mEehU21QbtyJs6Ex42vWBCnbSU3uVEA7nXxf9S6aiMM9K/Oe44QDCic8m8r34DgwKOUfl4yor0LxVTlSbZTwlMoY8gxMc8TJOM8gzCaFGmLNVNwF6qgDqjgvUqvAXvXImDaivDv4wjqGpr7r/T8mdY62Jfstc1reO5rgzReEi76dP894pWhiuI1jD2224ErIMFxTf5oVM2eFoIly2+ofOYYi6ZlElPLhXMwqkizDF392aAMaH9ciIAihf0LQxhnui4qugblPh64KuPJqvzQUplxOQ6tnCX9ZttGjo0nfMvudOHb2AONGi2LAtbsX6NFDj0Kh+6Lz/eO0LcwTLbUt0wltWZ51tcMZmL5BOwoK8Nd9g8H07bamm64FAYGDD27AQJxYl0=";

/// A non-ASCII password: Node hashes a string's UTF-8 bytes, as does the port.
///
/// python3 -c "import hashlib,base64; s=b'c2FsdA=='; print(base64.b64encode(hashlib.pbkdf2_hmac('sha512', 'pässwörd'.encode(), s, 4096, 512)).decode())"
const PYTHON_UTF8_VECTOR: &str = "90YNij4kxsXxcd6nj7wNDoyGjefb1Dz/u2Cb+WM/8/3Uf09zYC7CP8BtachNDdbDwqehmtJnSTS17QQQBTgtf3T7bXIAyPic6NBrQrOtX6KB5Xz0rpV++VC96DsQdCyoWD7lxKYSKNej9cMJ1xzIEWHIcNiR/Fs+OToYfNVvdyl423BV3kVvNsFxot85EJ+bA1BHn4bpBTcVjRmuIgccshRja52IvF2pGP8/dt/EYRIt1BFkyOWJPu1ztgpbFkS2lODgdkCuPxOjz5y7OLiTO/MBLTp9p3q2JrRHWfWM5sDiSo5o513ynF5s3HoJxRgV2/6uqoOMD2qr0hk8Aqa+seGS6Qru3O1gA9Opi55JnwveWPI8deQiqGXurAipJpgfc9+uI/L0UQnQxP4gzwgWXTGNf/SeItQ/9Gripv91/9iQYllueaB6hWqmAbbOqF0M4cQ7GP5r9dDTt/BYbw+ue9NbHLeW+rrq3E5hpN+7vCTqw8I7M+xSYbKtOABhdi+0+sWD9t/pC87oNl1ESWIshGExg5SsaaKe8HjhQxZ2SqJiCnWZOCmiKNaAHqP4oc3ZPmd17ZJgdrM+4TD0OBFFaHjSVq+6l2qpBTr8Kv7Yd/VYXk76PPHVpHeLK9EAxN2cW24lDF0GvJMQTY+UyBr7If5Ui9kJFqEnoOKnQJeBP1I=";

fn salt_text() -> String {
    STANDARD.encode((0..512).map(|i| i as u8).collect::<Vec<u8>>())
}

const ANN: &str = "ann@example.com";
const ANN_PASSWORD: &str = "correct horse battery staple";

/// The book's users table in memory; records which keys were asked for.
#[derive(Default)]
struct MemoryLegacyUsers {
    users: Mutex<HashMap<String, LegacyUser>>,
    asked: Mutex<Vec<String>>,
    unavailable: bool,
}

impl MemoryLegacyUsers {
    /// A user created as the book's `createUser` does: the salt's base64 text, the key base64.
    fn with_user(self, email: &str, password: &str, verified: bool) -> Self {
        let salt = salt_text();
        let user = LegacyUser {
            email: email.into(),
            password_hash: hash_like_the_book(password, &salt),
            password_salt: salt,
            verified,
        };
        self.users.lock().unwrap().insert(email.into(), user);
        self
    }
}

#[async_trait]
impl LegacyUsers for MemoryLegacyUsers {
    async fn user(&self, email: &str) -> Result<Option<LegacyUser>, StoreError> {
        self.asked.lock().unwrap().push(email.into());
        if self.unavailable {
            return Err(StoreError::new(
                "GetItem",
                "SampleAuthUsers",
                "ProvisionedThroughputExceededException",
            ));
        }
        Ok(self.users.lock().unwrap().get(email).cloned())
    }
}

fn function() -> MigrateUser<MemoryLegacyUsers> {
    MigrateUser::new(
        MemoryLegacyUsers::default()
            .with_user(ANN, ANN_PASSWORD, true)
            .with_user("bob@example.com", "bobs password", false),
    )
}

/// A sign-in by someone the pool does not know, as Cognito sends it.
fn sign_in(user_name: &str, password: &str) -> Value {
    json!({
        "version": "1",
        "triggerSource": "UserMigration_Authentication",
        "region": "us-east-1",
        "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": user_name,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "1example23456789abcdefghij"},
        "request": {"password": password, "validationData": null, "clientMetadata": null},
        "response": {"userAttributes": null, "forceAliasCreation": null, "enableSMSMFA": null,
                     "finalUserStatus": null, "messageAction": null, "desiredDeliveryMediums": null}
    })
}

/// A password reset asked for someone the pool does not know: no password.
fn forgot_password(user_name: &str) -> Value {
    json!({
        "version": "1",
        "triggerSource": "UserMigration_ForgotPassword",
        "region": "us-east-1",
        "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": user_name,
        "callerContext": {"awsSdkVersion": "aws-sdk-js-3.0.0", "clientId": "1example23456789abcdefghij"},
        "request": {"validationData": null, "clientMetadata": {}},
        "response": {"userAttributes": null, "forceAliasCreation": null, "enableSMSMFA": null,
                     "finalUserStatus": null, "messageAction": null, "desiredDeliveryMediums": null}
    })
}

fn refusal(result: Result<Value, MigrateError>) -> Refusal {
    let err = result.expect_err("expected a refusal");
    assert_eq!(err.to_string(), REFUSED, "every refusal says the same");
    assert_eq!(err.error_type(), "UserMigrationRefused");
    match err {
        MigrateError::Refused(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ------------------------------------------------------------------ the book's hash

#[test]
fn the_books_hash_matches_an_independent_pbkdf2_vector() {
    assert_eq!(salt_text().len(), 684, "a salt of the book's shape");
    assert_eq!(hash_like_the_book("password", &salt_text()), PYTHON_VECTOR);
    assert_eq!(
        password::verify("password", &salt_text(), PYTHON_VECTOR),
        Verdict::Matches
    );
    assert_eq!(
        password::verify("Password", &salt_text(), PYTHON_VECTOR),
        Verdict::DoesNotMatch
    );
}

#[test]
fn the_salt_is_the_base64_text_not_the_bytes_it_encodes() {
    let decoded = String::from_utf8_lossy(&STANDARD.decode("c2FsdA==").unwrap()).into_owned();
    assert_eq!(decoded, "salt");
    assert_eq!(
        hash_like_the_book("pässwörd", "c2FsdA=="),
        PYTHON_UTF8_VECTOR
    );
    assert_ne!(hash_like_the_book("pässwörd", &decoded), PYTHON_UTF8_VECTOR);
}

// ------------------------------------------------------------------ sign-in

#[tokio::test]
async fn a_verified_user_with_the_right_password_is_migrated_confirmed_and_not_welcomed() {
    let f = function();
    let answer = f.handle_json(sign_in(ANN, ANN_PASSWORD)).await.unwrap();
    assert_eq!(
        answer["response"],
        json!({"userAttributes": {"email": ANN, "email_verified": "true"}, "finalUserStatus": "CONFIRMED",
               "messageAction": "SUPPRESS", "desiredDeliveryMediums": null, "forceAliasCreation": false})
    );
    // The rest of the event goes back as it came.
    assert_eq!(answer["triggerSource"], "UserMigration_Authentication");
    assert_eq!(answer["userName"], ANN);
    assert_eq!(*f.users().asked.lock().unwrap(), vec![ANN.to_owned()]);
}

#[tokio::test]
async fn the_books_user_hashed_by_python_signs_in() {
    let users = MemoryLegacyUsers::default();
    users.users.lock().unwrap().insert(
        "py@example.com".into(),
        LegacyUser {
            email: "py@example.com".into(),
            password_hash: PYTHON_VECTOR.into(),
            password_salt: salt_text(),
            verified: true,
        },
    );
    let answer = MigrateUser::new(users)
        .handle_json(sign_in("py@example.com", "password"))
        .await
        .unwrap();
    assert_eq!(answer["response"]["finalUserStatus"], "CONFIRMED");
}

#[tokio::test]
async fn a_wrong_password_is_refused() {
    assert_eq!(
        refusal(
            function()
                .handle_json(sign_in(ANN, "correct horse battery stapler"))
                .await
        ),
        Refusal::WrongPassword
    );
    assert_eq!(
        refusal(function().handle_json(sign_in(ANN, "")).await),
        Refusal::WrongPassword
    );
}

#[tokio::test]
async fn an_unknown_user_is_refused_the_same_way() {
    let f = function();
    assert_eq!(
        refusal(
            f.handle_json(sign_in("nobody@example.com", ANN_PASSWORD))
                .await
        ),
        Refusal::UnknownUser
    );
    // Looked up exactly as typed: the book stored the email as its users typed it.
    assert_eq!(
        refusal(
            f.handle_json(sign_in("Ann@Example.com", ANN_PASSWORD))
                .await
        ),
        Refusal::UnknownUser
    );
    assert_eq!(
        *f.users().asked.lock().unwrap(),
        vec![
            "nobody@example.com".to_owned(),
            "Ann@Example.com".to_owned()
        ]
    );
}

#[tokio::test]
async fn an_unverified_user_is_refused_the_same_way_even_with_the_right_password() {
    assert_eq!(
        refusal(
            function()
                .handle_json(sign_in("bob@example.com", "bobs password"))
                .await
        ),
        Refusal::NotVerified
    );
    // A wrong password is logged as such, whether or not the user verified.
    assert_eq!(
        refusal(
            function()
                .handle_json(sign_in("bob@example.com", "guess"))
                .await
        ),
        Refusal::WrongPassword
    );
}

#[tokio::test]
async fn an_item_without_a_usable_hash_is_refused() {
    let users = MemoryLegacyUsers::default();
    users.users.lock().unwrap().insert(
        ANN.into(),
        LegacyUser {
            email: ANN.into(),
            password_hash: String::new(),
            password_salt: salt_text(),
            verified: true,
        },
    );
    assert_eq!(
        refusal(MigrateUser::new(users).handle_json(sign_in(ANN, "")).await),
        Refusal::UnusableItem
    );
}

#[tokio::test]
async fn a_store_failure_is_an_error_that_names_nothing() {
    let f = MigrateUser::new(MemoryLegacyUsers {
        unavailable: true,
        ..Default::default()
    });
    let err = f.handle_json(sign_in(ANN, ANN_PASSWORD)).await.unwrap_err();
    assert!(matches!(err, MigrateError::Store(_)), "{err:?}");
    assert_eq!(err.error_type(), "LegacyStoreUnavailable");
    let message = err.to_string();
    assert!(
        !message.contains("SampleAuthUsers") && !message.contains(ANN),
        "{message}"
    );
}

// ------------------------------------------------------------------ password reset

#[tokio::test]
async fn forgot_password_for_a_verified_user_returns_the_attributes_and_leaves_the_status_to_cognito(
) {
    let answer = function().handle_json(forgot_password(ANN)).await.unwrap();
    assert_eq!(
        answer["response"],
        json!({"userAttributes": {"email": ANN, "email_verified": "true"}, "finalUserStatus": null,
               "messageAction": "SUPPRESS", "desiredDeliveryMediums": null, "forceAliasCreation": false})
    );
    assert_eq!(answer["triggerSource"], "UserMigration_ForgotPassword");
}

#[tokio::test]
async fn forgot_password_for_an_unknown_or_unverified_user_is_refused_the_same_way() {
    assert_eq!(
        refusal(
            function()
                .handle_json(forgot_password("nobody@example.com"))
                .await
        ),
        Refusal::UnknownUser
    );
    // Cognito sends reset codes to verified addresses only, and this one was never proven.
    assert_eq!(
        refusal(
            function()
                .handle_json(forgot_password("bob@example.com"))
                .await
        ),
        Refusal::NotVerified
    );
}

// ------------------------------------------------------------------ malformed events

async fn malformed(event: Value) -> String {
    match function().handle_json(event).await {
        Err(err @ MigrateError::MalformedEvent(_)) => {
            assert_eq!(err.error_type(), "MalformedEvent");
            err.to_string()
        }
        other => panic!("expected a malformed-event error, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_events_are_clear_errors() {
    let message = malformed(json!({"hello": "world"})).await;
    assert!(
        message.starts_with("not a Cognito user-migration event"),
        "{message}"
    );

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event["triggerSource"] = json!("PreSignUp_SignUp");
    let message = malformed(event).await;
    assert!(
        message.contains("PreSignUp_SignUp") && message.contains("UserMigration_Authentication"),
        "{message}"
    );

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event.as_object_mut().unwrap().remove("triggerSource");
    assert!(malformed(event).await.contains("no triggerSource"));

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event.as_object_mut().unwrap().remove("userName");
    assert!(malformed(event).await.contains("no userName"));

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event["request"].as_object_mut().unwrap().remove("password");
    assert!(malformed(event).await.contains("without request.password"));

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event.as_object_mut().unwrap().remove("response");
    assert!(malformed(event).await.contains("response"));

    assert!(malformed(json!([1, 2, 3]))
        .await
        .starts_with("not a Cognito user-migration event"));
}

#[tokio::test]
async fn a_malformed_event_never_quotes_the_password() {
    // serde would quote a value it could not read: a password sent as a number, or an event
    // broken elsewhere.
    let mut event = sign_in(ANN, ANN_PASSWORD);
    event["request"]["password"] = json!(8_675_309);
    let message = malformed(event).await;
    assert_eq!(
        message,
        "not a Cognito user-migration event: request.password is not a string"
    );

    let mut event = sign_in(ANN, ANN_PASSWORD);
    event["callerContext"] = json!(42);
    let message = malformed(event).await;
    assert!(
        message.contains("invalid type") && !message.contains(ANN_PASSWORD),
        "{message}"
    );
}

// ------------------------------------------------------------------ logs

/// Everything the handler logs, as JSON lines, while `run` runs.
async fn logs_of<F: std::future::Future<Output = ()>>(run: F) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime (tokio::test's): the subscriber sees every line of `run`.
    media_core::testing::keep_every_callsite_enabled();
    let _guard = tracing::subscriber::set_default(subscriber);
    run.await;
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn logs_say_the_category_and_never_the_secrets() {
    let f = function();
    let salt = salt_text();
    let hash = hash_like_the_book(ANN_PASSWORD, &salt);
    let logs = logs_of(async {
        let _ = f.handle_json(sign_in(ANN, ANN_PASSWORD)).await;
        let _ = f.handle_json(sign_in(ANN, "a wrong one")).await;
        let _ = f
            .handle_json(sign_in("nobody@example.com", "a guess"))
            .await;
        let _ = f
            .handle_json(sign_in("bob@example.com", "bobs password"))
            .await;
        let _ = f.handle_json(forgot_password(ANN)).await;
    })
    .await;
    for reason in ["wrong_password", "unknown_user", "not_verified"] {
        assert!(logs.contains(reason), "{reason} in {logs}");
    }
    assert_eq!(logs.matches("user migrated").count(), 2, "{logs}");
    for secret in [
        ANN_PASSWORD,
        "a wrong one",
        "a guess",
        "bobs password",
        &hash[..],
        &hash[..40],
        &salt[..40],
    ] {
        assert!(!logs.contains(secret), "{secret:?} logged: {logs}");
    }
    for email in [ANN, "nobody@example.com", "bob@example.com"] {
        assert!(!logs.contains(email), "{email} logged: {logs}");
    }
}
