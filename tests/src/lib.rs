//! Harness for the end-to-end tests: a fresh devstack per test, on free ports, in its own
//! state directory, so tests run in parallel with each other and with a developer's
//! `make dev`.

use std::future::Future;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use media_core::item::MediaItem;
use tokio::process::{Child, Command};

pub use media_core::stack::StackInfo;

pub mod bench;

/// A running devstack; stopped and deleted when dropped.
pub struct Stack {
    pub info: StackInfo,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sdk: aws_config::SdkConfig,
    pub state_dir: PathBuf,
    child: Child,
    keep_state: bool,
}

pub fn devstack_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("DEVSTACK_BIN") {
        return path.into();
    }
    // Test binaries live in target/<profile>/deps; devstack in target/<profile>.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("devstack")
}

impl Stack {
    /// Starts a stack on the data in `state_dir` (a restart when it holds a stopped stack).
    pub async fn start_in(state_dir: PathBuf) -> Result<Stack> {
        Self::start_with(state_dir, &[]).await
    }

    /// Starts a fresh stack with these template parameters (`Name`, `Value`), e.g. small index
    /// pages.
    pub async fn start_with_parameters(parameters: &[(&str, &str)]) -> Result<Stack> {
        Self::start_with(
            std::env::temp_dir().join(format!("media-e2e-{}-{}", std::process::id(), unique())),
            parameters,
        )
        .await
    }

    async fn start_with(state_dir: PathBuf, parameters: &[(&str, &str)]) -> Result<Stack> {
        std::fs::create_dir_all(&state_dir)?;
        let log = std::fs::File::create(state_dir.join("devstack.log"))?;
        let mut command = Command::new(devstack_bin());
        command
            .args([
                "up",
                "--port",
                "0",
                "--client-port",
                "0",
                "--purge-interval",
                "3600",
                "--state-dir",
            ])
            .arg(&state_dir)
            .args(
                parameters.iter().flat_map(|(name, value)| {
                    ["--parameter".to_owned(), format!("{name}={value}")]
                }),
            )
            .arg("--label")
            .arg(test_label())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", devstack_bin().display()))?;
        let stack_file = state_dir.join("stack.json");
        let started = Instant::now();
        let info: StackInfo = loop {
            if let Ok(text) = std::fs::read_to_string(&stack_file) {
                break serde_json::from_str(&text)?;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "devstack exited with {status}: {}",
                    std::fs::read_to_string(state_dir.join("devstack.log"))?
                );
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("devstack did not start within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let sdk = media_core::aws::sdk_config_for_endpoint(
            &info.endpoint,
            &info.region,
            &info.access_key_id,
            &info.secret_access_key,
        )
        .await;
        Ok(Stack {
            s3: media_core::aws::s3_client(&sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sdk,
            info,
            state_dir,
            child,
            keep_state: false,
        })
    }

    /// Starts a fresh stack in a directory of its own.
    pub async fn start() -> Result<Stack> {
        Self::start_in(std::env::temp_dir().join(format!(
            "media-e2e-{}-{}",
            std::process::id(),
            unique()
        )))
        .await
    }

    /// Stops the stack and keeps its data; returns where it is.
    pub fn stop_keeping_state(mut self) -> PathBuf {
        self.keep_state = true;
        self.state_dir.clone()
    }

    /// Runs `devstack invoke` against this stack and returns its JSON answer.
    pub async fn invoke(
        &self,
        function: &str,
        event: &serde_json::Value,
        env: &[(&str, &str)],
    ) -> Result<serde_json::Value> {
        let mut command = Command::new(devstack_bin());
        command
            .args(["invoke", function, &event.to_string(), "--state-dir"])
            .arg(&self.state_dir)
            .env("RUST_LOG", "warn");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().await?;
        if !output.status.success() {
            bail!(
                "devstack invoke {function} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        serde_json::from_slice(&output.stdout)
            .with_context(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// devstack's log and the emulator's (which carries the deployed functions' logs).
    pub fn log(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.state_dir.join(name)).unwrap_or_default();
        read("devstack.log") + &read("emulator.log")
    }

    pub async fn upload(&self, key: &str, body: Vec<u8>, metadata: Option<&str>) -> Result<()> {
        let mut request = self
            .s3
            .put_object()
            .bucket(&self.info.bucket)
            .key(key)
            .body(body.into());
        if let Some(metadata) = metadata {
            request = request.metadata("data", metadata);
        }
        request
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        self.s3
            .delete_object()
            .bucket(&self.info.bucket)
            .key(key)
            .send()
            .await?;
        Ok(())
    }

    /// The object's bytes and content type, or `None` when it does not exist.
    pub async fn object(&self, key: &str) -> Result<Option<(Vec<u8>, Option<String>)>> {
        match self
            .s3
            .get_object()
            .bucket(&self.info.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => {
                let content_type = output.content_type().map(str::to_owned);
                Ok(Some((
                    output.body.collect().await?.into_bytes().to_vec(),
                    content_type,
                )))
            }
            Err(err) if err.raw_response().map(|r| r.status().as_u16()) == Some(404) => Ok(None),
            Err(err) => Err(anyhow::Error::msg(
                aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
            )),
        }
    }

    /// The item once content-updated has written it: face-detection may write its attributes
    /// first (the two run in either order), which makes an item with none of content-updated's.
    pub async fn content_item(
        &self,
        identity_id: &str,
        object_key: &str,
    ) -> Result<Option<MediaItem>> {
        Ok(self
            .item(identity_id, object_key)
            .await?
            .filter(|item| item.sequencer.is_some()))
    }

    pub async fn item(&self, identity_id: &str, object_key: &str) -> Result<Option<MediaItem>> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(&self.info.table)
            .key("identityId", AttributeValue::S(identity_id.into()))
            .key("objectKey", AttributeValue::S(object_key.into()))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match output.item {
            Some(item) => Some(serde_dynamo::from_item(item)?),
            None => None,
        })
    }
}

/// A signed-in user of the stack, with the identity pool's credentials for them: what the web
/// client holds after signing in.
pub struct SignedInUser {
    pub email: String,
    /// The Cognito identity id, `${cognito-identity.amazonaws.com:sub}` in the signed-in role.
    pub identity_id: String,
    /// DynamoDB with the user's own credentials (the signed-in role's), through the stack's
    /// endpoint.
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl Stack {
    /// One unsigned call of a Cognito API (`AWSCognitoIdentityProviderService.SignUp`, ...),
    /// as the web client's SDK makes it: JSON 1.1 to the stack's endpoint.
    async fn cognito(&self, target: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let response = reqwest::Client::new()
            .post(&self.info.endpoint)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{target}: {status} {answer}");
        }
        Ok(answer)
    }

    /// Signs a new user up and in as the web client does (`client/src/auth.ts`): SignUp,
    /// ConfirmSignUp (the emulator accepts any code), InitiateAuth with USER_PASSWORD_AUTH,
    /// then the identity pool's GetId and GetCredentialsForIdentity with the id token. The
    /// stack's proxy learns the credentials' identity from that answer, so the user's
    /// requests are recorded as the signed-in role's (`make iam-replay`).
    pub async fn sign_in_new_user(&self) -> Result<SignedInUser> {
        let email = format!("owner-{}-{}@example.com", std::process::id(), unique());
        let password = "Correct-Horse-9";
        let client_id = &self.info.user_pool_client_id;
        let idp = "AWSCognitoIdentityProviderService";
        self.cognito(
            &format!("{idp}.SignUp"),
            serde_json::json!({"ClientId": client_id, "Username": email, "Password": password,
                               "UserAttributes": [{"Name": "email", "Value": email}]}),
        )
        .await?;
        let confirmation = serde_json::json!({"ClientId": client_id, "Username": email, "ConfirmationCode": "123456"});
        self.cognito(&format!("{idp}.ConfirmSignUp"), confirmation)
            .await?;
        let auth = self
            .cognito(
                &format!("{idp}.InitiateAuth"),
                serde_json::json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                   "AuthParameters": {"USERNAME": email, "PASSWORD": password}}),
            )
            .await?;
        let id_token = auth["AuthenticationResult"]["IdToken"]
            .as_str()
            .context("no id token")?
            .to_owned();
        let provider = format!(
            "cognito-idp.{}.amazonaws.com/{}",
            self.info.region, self.info.user_pool_id
        );
        let logins = serde_json::json!({provider: id_token});
        let identity = "AWSCognitoIdentityService";
        let get_id =
            serde_json::json!({"IdentityPoolId": self.info.identity_pool_id, "Logins": logins});
        let id = self.cognito(&format!("{identity}.GetId"), get_id).await?;
        let identity_id = id["IdentityId"]
            .as_str()
            .context("no identity id")?
            .to_owned();
        let get_credentials = serde_json::json!({"IdentityId": identity_id, "Logins": logins});
        let answer = self
            .cognito(
                &format!("{identity}.GetCredentialsForIdentity"),
                get_credentials,
            )
            .await?;
        let field = |name: &str| {
            answer["Credentials"][name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("no {name} in {answer}"))
        };
        let (key, secret, token) = (
            field("AccessKeyId")?,
            field("SecretKey")?,
            field("SessionToken")?,
        );
        let credentials =
            aws_sdk_dynamodb::config::Credentials::new(key, secret, Some(token), None, "cognito");
        let config = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .credentials_provider(credentials)
            .build();
        Ok(SignedInUser {
            email,
            identity_id,
            dynamodb: aws_sdk_dynamodb::Client::from_conf(config),
        })
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // SIGTERM lets devstack stop its emulator; kill_on_drop is the backstop.
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            for _ in 0..50 {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if !self.keep_state && std::env::var_os("KEEP_E2E_STATE").is_none() {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// `{test file}::{test}`, written into every AWS request the stack records (devstack's `--label`):
/// the test binary's name without its hash and the test thread's name (cargo's test harness
/// names each test's thread after the test; `#[tokio::test]` runs the test on that thread).
pub fn test_label() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let binary = match binary.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            name.to_owned()
        }
        _ => binary,
    };
    let thread = std::thread::current().name().unwrap_or("main").to_owned();
    format!("{binary}::{thread}")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Polls `check` until it yields `Some`, or fails after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if started.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A photograph-like JPEG: smooth gradients with fine noise, so it compresses like a photo.
pub fn photo_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut seed: u32 = 0x9E37_79B9;
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as i32 - 12;
        let r = (x * 255 / width) as i32 + noise;
        let g = (y * 255 / height) as i32 + noise;
        let b = (((x + y) / 7) % 256) as i32 - noise;
        image::Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ])
    });
    encode(
        image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Jpeg,
    )
}

pub fn encode(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode");
    out
}

/// A fresh identity id in the Cognito format (`region:uuid`).
pub fn identity_id() -> String {
    format!(
        "us-east-1:{:08x}-0000-4000-8000-{:012x}",
        std::process::id(),
        unique() + 1
    )
}

/// A user-migration trigger as Cognito sends it to migrate-user.
pub fn user_migration_event(
    trigger: &str,
    user: &str,
    password: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "version": "1", "triggerSource": trigger, "region": "us-east-1", "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": user,
        "callerContext": {"awsSdkVersion": "aws-sdk-js-3.0.0", "clientId": "1example23456789abcdefghij"},
        "request": {"password": password, "validationData": null, "clientMetadata": null},
        "response": {"userAttributes": null, "forceAliasCreation": null, "enableSMSMFA": null,
                     "finalUserStatus": null, "messageAction": null, "desiredDeliveryMediums": null}
    })
}

/// The book's users table in the stack, with `users` (email, verified) whose password is
/// `password`, written as the book's createUser writes them: a random salt's base64 text, the
/// key in base64.
pub async fn legacy_users_table(
    stack: &Stack,
    table: &str,
    password: &str,
    users: &[(&str, bool)],
) -> Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    stack
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("email")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("email")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await?;
    let salt = "c2FsdHNhbHRzYWx0c2FsdA==";
    for (email, verified) in users {
        stack
            .dynamodb
            .put_item()
            .table_name(table)
            .item("email", AttributeValue::S((*email).into()))
            .item(
                "passwordHash",
                AttributeValue::S(migrate_user::password::hash_like_the_book(password, salt)),
            )
            .item("passwordSalt", AttributeValue::S(salt.into()))
            .item("verified", AttributeValue::Bool(*verified))
            .send()
            .await?;
    }
    Ok(())
}
