//! Deploys `infra/template.yaml` onto the emulator, as `sam package` and `sam deploy` do in
//! the cloud: each function's Lambda package (`make -C infra package-local`: the `lambda`
//! profile, bundled as for AWS) is zipped and uploaded, the template's `CodeUri` directories
//! become those S3 locations (exactly the rewrite `sam package` makes), and the stack is
//! created or updated through the emulator's CloudFormation API with the parameters a local
//! stack needs. Every resource, setting and trigger comes from the template; nothing here
//! describes one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use media_core::stack::StackInfo;

use crate::emulator::repo_root;

/// Name of the stack on the emulator.
pub const STACK_NAME: &str = "media-sharing";
/// Where the function packages are uploaded (what `sam package --s3-bucket` names).
const CODE_BUCKET: &str = "devstack-code";
/// The template's functions, by crate (and binary) name: every `CodeUri: build/<name>/`.
pub fn functions_of(template: &str) -> Vec<String> {
    template
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("CodeUri: build/")?
                .strip_suffix('/')
                .map(str::to_owned)
        })
        .collect()
}

fn template_path() -> PathBuf {
    repo_root().join("infra/template.yaml")
}
/// How long CloudFormation may take (the emulator creates the stack in about a second).
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(180);

/// What differs between the local stack and AWS: template parameters, every one with the
/// AWS value as its default.
pub struct LocalParameters {
    pub client_origin: String,
    pub purge_interval_minutes: u64,
    pub face_model_path: Option<PathBuf>,
    /// Parameters the caller sets (a test's small index pages); they win over the above.
    pub overrides: Vec<(String, String)>,
}

impl LocalParameters {
    fn to_cloudformation(&self) -> Vec<Parameter> {
        let architecture = if std::env::consts::ARCH == "aarch64" {
            "arm64"
        } else {
            "x86_64"
        };
        let minutes = self.purge_interval_minutes.max(1);
        let schedule = if minutes == 1 {
            "rate(1 minute)".to_owned()
        } else {
            format!("rate({minutes} minutes)")
        };
        let mut values = vec![
            ("ClientOrigin", self.client_origin.clone()),
            // The functions run as processes of this machine.
            ("Architecture", architecture.to_owned()),
            ("PurgeSchedule", schedule),
            // A failed message is retried after seconds, not after 6 x the function timeout.
            ("QueueRetrySeconds", "2".to_owned()),
            // Everything local is on loopback, presigned links included.
            ("AllowPrivateImageUrls", "1".to_owned()),
            // The emulator has no CloudFront: devstack serves the web client itself.
            ("HostClient", "false".to_owned()),
        ];
        if let Some(model) = &self.face_model_path {
            values.push(("FaceModelPath", model.display().to_string()));
        }
        values.retain(|(key, _)| !self.overrides.iter().any(|(name, _)| name == key));
        values
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .chain(self.overrides.iter().cloned())
            .map(|(key, value)| {
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build()
            })
            .collect()
    }
}

/// The face model the functions use locally: CenterFace from `make models` when present, else
/// Debian's Haar cascade; `None` leaves the template's default.
pub fn local_face_model() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FACE_MODEL_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let models = std::env::var_os("FACE_MODEL_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/media-share/models"))
        })?;
    let centerface = models.join("centerface.onnx");
    if centerface.exists() {
        return Some(centerface);
    }
    let haar = PathBuf::from("/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt.xml");
    // The cascade finds fewer faces than the deployed detector: say so, every start.
    tracing::warn!(
        missing = %centerface.display(),
        using = %haar.display(),
        "CenterFace model not found (run `make models`): face-detection falls back to \
         Debian's Haar cascade, which finds fewer faces than the deployed detector"
    );
    haar.exists().then_some(haar)
}

/// The directory of a function's Lambda package for this machine's architecture: what
/// `make -C infra package-local` builds (the `lambda` profile, bundled as `make -C infra
/// package` bundles it), `infra/build/local/<function>/` unless `DEVSTACK_PACKAGES_DIR` names
/// another directory of packages.
fn package_dir(function: &str) -> Result<PathBuf> {
    let dir = std::env::var_os("DEVSTACK_PACKAGES_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("infra/build/local"));
    let path = dir.join(function);
    if !path.join("bootstrap").is_file() {
        bail!(
            "{} is missing: build the packages first (`make dev` does: make -C infra package-local)",
            path.join("bootstrap").display()
        );
    }
    Ok(path)
}

/// A Lambda deployment package: every file of the package directory at its relative path,
/// executables kept executable, as `sam package` zips a `CodeUri` directory. Entries are
/// sorted so an unchanged package zips to the same bytes (and the stack is not updated).
fn package(dir: &Path) -> Result<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in
            std::fs::read_dir(&next).with_context(|| format!("reading {}", next.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for path in files {
        let name = path
            .strip_prefix(dir)?
            .to_str()
            .context("a package path that is not UTF-8")?
            .to_owned();
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        zip.start_file(name, options)?;
        zip.write_all(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Uploads the packages and returns the template with each `CodeUri: build/<function>/` made
/// the package's S3 location. A package's key names its content, so a rebuilt function is
/// an update of the stack and an unchanged one is not.
async fn packaged_template(
    s3: &aws_sdk_s3::Client,
    mut template: String,
    functions: &[String],
) -> Result<String> {
    match s3.create_bucket().bucket(CODE_BUCKET).send().await {
        Ok(_) => {}
        Err(err)
            if err.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) => {}
        Err(err) => return Err(sdk_error(err)).context("creating the code bucket"),
    }
    for function in functions {
        let zipped = package(&package_dir(function)?)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&zipped);
        let key = format!("{function}/{:08x}-{}.zip", hasher.finalize(), zipped.len());
        s3.put_object()
            .bucket(CODE_BUCKET)
            .key(&key)
            .body(zipped.into())
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        let local = format!("CodeUri: build/{function}/");
        if !template.contains(&local) {
            bail!("{} has no `{local}`", template_path().display());
        }
        template = template.replace(&local, &format!("CodeUri: s3://{CODE_BUCKET}/{key}"));
    }
    Ok(template)
}

/// What a deployment answers: the stack's outputs and the template's functions.
pub struct Deployed {
    pub outputs: BTreeMap<String, String>,
    pub functions: Vec<String>,
}

/// Creates or updates the stack and waits until it is complete.
pub async fn deploy(
    sdk: &SdkConfig,
    endpoint: &str,
    parameters: &LocalParameters,
) -> Result<Deployed> {
    let s3 = media_core::aws::s3_client(sdk);
    let cloudformation = aws_sdk_cloudformation::Client::new(sdk);
    let path = template_path();
    let template =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let functions = functions_of(&template);
    let template = packaged_template(&s3, template, &functions).await?;
    // Over 51,200 bytes a template must be passed by URL (CloudFormation user guide,
    // "CloudFormation quotas"), as `sam deploy` does.
    let template_key = "template/packaged.yaml";
    s3.put_object()
        .bucket(CODE_BUCKET)
        .key(template_key)
        .body(template.into_bytes().into())
        .send()
        .await
        .context("uploading the template")?;
    let template_url = format!("{endpoint}/{CODE_BUCKET}/{template_key}");
    let capabilities = [
        Capability::CapabilityIam,
        Capability::CapabilityNamedIam,
        Capability::CapabilityAutoExpand,
    ];

    let existing = match cloudformation
        .describe_stacks()
        .stack_name(STACK_NAME)
        .send()
        .await
    {
        Ok(output) => output
            .stacks()
            .first()
            .and_then(|s| s.stack_status().cloned()),
        Err(_) => None,
    };
    if matches!(existing, Some(StackStatus::RollbackComplete)) {
        // A stack whose creation failed can only be deleted (as in AWS).
        cloudformation
            .delete_stack()
            .stack_name(STACK_NAME)
            .send()
            .await?;
        wait(&cloudformation).await.ok();
    }
    let exists = matches!(existing, Some(ref s) if *s != StackStatus::RollbackComplete && *s != StackStatus::DeleteComplete);
    if exists {
        let update = cloudformation
            .update_stack()
            .stack_name(STACK_NAME)
            .template_url(&template_url)
            .set_parameters(Some(parameters.to_cloudformation()))
            .set_capabilities(Some(capabilities.to_vec()))
            .send()
            .await;
        match update {
            Ok(_) => tracing::info!(stack = STACK_NAME, "updating the stack"),
            Err(err)
                if format!(
                    "{}",
                    aws_sdk_cloudformation::error::DisplayErrorContext(&err)
                )
                .contains("No updates") =>
            {
                tracing::info!(stack = STACK_NAME, "the stack is up to date")
            }
            Err(err) => return Err(sdk_error(err)).context("UpdateStack"),
        }
    } else {
        cloudformation
            .create_stack()
            .stack_name(STACK_NAME)
            .template_url(&template_url)
            .set_parameters(Some(parameters.to_cloudformation()))
            .set_capabilities(Some(capabilities.to_vec()))
            .send()
            .await
            .map_err(sdk_error)
            .context("CreateStack")?;
        tracing::info!(stack = STACK_NAME, "creating the stack");
    }
    Ok(Deployed {
        outputs: wait(&cloudformation).await?,
        functions,
    })
}

/// The deployed stack for the request records (`proxy.rs`): its id, account, parameters and
/// every resource's physical id by logical id.
pub async fn describe(sdk: &SdkConfig) -> Result<serde_json::Value> {
    let cloudformation = aws_sdk_cloudformation::Client::new(sdk);
    let stacks = cloudformation
        .describe_stacks()
        .stack_name(STACK_NAME)
        .send()
        .await
        .context("DescribeStacks")?;
    let stack = stacks.stacks().first().context("the stack vanished")?;
    let stack_id = stack.stack_id().unwrap_or_default().to_owned();
    let parameters: serde_json::Map<String, serde_json::Value> = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                serde_json::Value::String(p.parameter_value()?.to_owned()),
            ))
        })
        .collect();
    let resources = cloudformation
        .describe_stack_resources()
        .stack_name(STACK_NAME)
        .send()
        .await
        .context("DescribeStackResources")?;
    let resources: Vec<serde_json::Value> = resources
        .stack_resources()
        .iter()
        .map(|r| {
            serde_json::json!({
                "logicalId": r.logical_resource_id(), "type": r.resource_type(), "physicalId": r.physical_resource_id(),
            })
        })
        .collect();
    let account = stack_id.split(':').nth(4).unwrap_or_default().to_owned();
    Ok(serde_json::json!({
        "stackId": stack_id, "account": account, "region": crate::REGION, "parameters": parameters, "resources": resources,
    }))
}

/// Waits for the stack to leave its `*_IN_PROGRESS` state; its outputs, or why it failed.
async fn wait(cloudformation: &aws_sdk_cloudformation::Client) -> Result<BTreeMap<String, String>> {
    let started = Instant::now();
    loop {
        let output = cloudformation
            .describe_stacks()
            .stack_name(STACK_NAME)
            .send()
            .await
            .context("DescribeStacks")?;
        let stack = output.stacks().first().context("the stack vanished")?;
        let status = stack.stack_status().cloned().context("no stack status")?;
        if !status.as_str().ends_with("IN_PROGRESS") {
            if matches!(
                status,
                StackStatus::CreateComplete | StackStatus::UpdateComplete
            ) {
                return Ok(stack
                    .outputs()
                    .iter()
                    .filter_map(|o| {
                        Some((o.output_key()?.to_owned(), o.output_value()?.to_owned()))
                    })
                    .collect());
            }
            let events = cloudformation
                .describe_stack_events()
                .stack_name(STACK_NAME)
                .send()
                .await?;
            let failures: Vec<String> = events
                .stack_events()
                .iter()
                .filter(|e| {
                    e.resource_status()
                        .is_some_and(|s| s.as_str().ends_with("FAILED"))
                })
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.logical_resource_id().unwrap_or("?"),
                        e.resource_status_reason().unwrap_or("")
                    )
                })
                .collect();
            bail!("the stack is {}: {}", status.as_str(), failures.join("; "));
        }
        if started.elapsed() > DEPLOY_TIMEOUT {
            bail!(
                "the stack is still {} after {DEPLOY_TIMEOUT:?}",
                status.as_str()
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `stack.json` from the stack's outputs.
pub fn stack_info(deployed: &Deployed, endpoint: &str, client_url: &str) -> Result<StackInfo> {
    let Deployed { outputs, functions } = deployed;
    let output = |key: &str| {
        outputs
            .get(key)
            .cloned()
            .with_context(|| format!("the stack has no output {key}"))
    };
    let by_function = |suffix: &str| -> BTreeMap<String, String> {
        functions
            .iter()
            .filter_map(|f| {
                let camel: String = f
                    .split('-')
                    .map(|w| w[..1].to_uppercase() + &w[1..])
                    .collect();
                Some((f.clone(), outputs.get(&format!("{camel}{suffix}"))?.clone()))
            })
            .collect()
    };
    Ok(StackInfo {
        endpoint: endpoint.to_owned(),
        region: output("Region")?,
        bucket: output("BucketName")?,
        table: output("TableName")?,
        user_pool_id: output("UserPoolId")?,
        user_pool_client_id: output("UserPoolClientId")?,
        identity_pool_id: output("IdentityPoolId")?,
        client_url: client_url.to_owned(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        s3_force_path_style: true,
        stack_name: STACK_NAME.to_owned(),
        functions: by_function("FunctionName"),
        queue_urls: by_function("QueueUrl"),
        dead_letter_queue_urls: by_function("DeadLetterQueueUrl"),
        index_failures_queue_url: output("IndexUpdateFailuresQueueUrl")?,
        max_upload_bytes: output("MaxUploadBytes")?
            .parse()
            .context("output MaxUploadBytes is not a number")?,
        storage_quota_bytes: output("StorageQuotaBytes")?
            .parse()
            .context("output StorageQuotaBytes is not a number")?,
    })
}

/// An SDK error with its whole chain of causes in the message.
fn sdk_error<E: std::error::Error>(err: E) -> anyhow::Error {
    anyhow::anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(err))
}
