//! The Lambda packages a deployer uploads (`make -C infra package`: `infra/build/<function>/`),
//! each started the way Lambda starts it (`infra/scripts/lambda_sandbox.py`: an otherwise
//! empty, read-only root, the package at `/var/task`, a writable `/tmp`, Lambda's environment,
//! the runtime API; arm64 packages under qemu-user) and sent one real invocation against a
//! local stack's services. Each test first lets the stack's own copy of the function finish,
//! removes what it wrote, and then checks that the sandboxed package wrote it again, so what
//! is checked is the package's work.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::{
    eventually, identity_id, legacy_users_table, photo_jpeg, user_migration_event, Stack,
};
use media_core::testing::s3_event_body;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(120);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf()
}

/// The directory of the packages `make -C infra package` built.
fn packages_dir() -> PathBuf {
    std::env::var_os("PACKAGES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("infra/build"))
}

/// What the sandbox answered.
#[derive(Debug)]
struct Answer {
    status: String,
    body: Value,
    log: String,
}

/// Runs `function`'s package once with `event`, with the environment the stack deployed it
/// with (Lambda's own variables set by the sandbox), the stack's credentials and endpoint.
async fn run_package(
    stack: &Stack,
    function: &str,
    event: &Value,
    extra_env: &[(&str, &str)],
) -> Result<Answer> {
    let name = stack
        .info
        .functions
        .get(function)
        .with_context(|| format!("no function {function}"))?;
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk);
    let configuration = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await?;
    let mut env: BTreeMap<String, String> = configuration
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    // What the local stack overrides for the emulator's process model, back to the template's
    // value: the package's own files are at /var/task in the sandbox, as on AWS.
    env.remove("FACE_MODEL_PATH");
    env.insert("AWS_ENDPOINT_URL".into(), stack.info.endpoint.clone());
    // The credentials the emulator hands its own functions (the account id as the access key),
    // not the harness's: the recording proxy then attributes each request to the function by
    // the process that made it, and the IAM replay checks it against the function's role.
    let account = configuration
        .function_arn()
        .and_then(|arn| arn.split(':').nth(4))
        .context("the function's account")?;
    env.insert("AWS_ACCESS_KEY_ID".into(), account.to_owned());
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "test".into());
    env.insert("AWS_SESSION_TOKEN".into(), "local".into());
    env.insert("AWS_REGION".into(), stack.info.region.clone());
    env.insert("RUST_LOG".into(), "info".into());
    for (key, value) in extra_env {
        env.insert((*key).into(), (*value).into());
    }
    let event_file = stack.state_dir.join(format!("{function}-event.json"));
    std::fs::write(&event_file, serde_json::to_vec(event)?)?;
    let mut command = tokio::process::Command::new("python3");
    command
        .arg(repo_root().join("infra/scripts/lambda_sandbox.py"))
        .arg("--package")
        .arg(packages_dir().join(function))
        .arg("--template")
        .arg(repo_root().join("infra/template.yaml"))
        .args(["--function-name", name])
        .arg("--event")
        .arg(&event_file)
        .args(["--timeout", "120"]);
    if let Some(memory) = configuration.memory_size() {
        command.args(["--memory", &memory.to_string()]);
    }
    for (key, value) in &env {
        command.arg("--env").arg(format!("{key}={value}"));
    }
    let output = command
        .output()
        .await
        .context("starting lambda_sandbox.py")?;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let line = String::from_utf8_lossy(&output.stdout);
    let answer: Value = serde_json::from_str(line.trim())
        .with_context(|| format!("sandbox output {line:?}; log:\n{log}"))?;
    // The figures bench/README.md's package table reports.
    eprintln!(
        "package {function}: {} after {} ms (init {} ms), peak RSS {} MB",
        answer["status"], answer["total_ms"], answer["init_ms"], answer["max_rss_mb"]
    );
    Ok(Answer {
        status: answer["status"].as_str().unwrap_or_default().to_owned(),
        body: answer["body"].clone(),
        log,
    })
}

fn sqs_batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            json!({"messageId": format!("m{n}"), "receiptHandle": format!("r{n}"), "body": body,
                   "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000",
                                  "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1795000000000"},
                   "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:queue", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

fn assert_answered(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status, "response",
        "{what}: {:?}\n{}",
        answer.body, answer.log
    );
}

/// The image functions: a real JPEG, PNG and HEIC in one SQS batch, as S3 notifies them.
#[tokio::test(flavor = "multi_thread")]
async fn the_image_packages_make_renditions_and_faces_as_lambda_starts_them() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let heic = media_imaging::testing::heif::heif_enc(&photo_jpeg(640, 480));
    let uploads = [
        (
            format!("public/content/{id}/photo.jpg"),
            photo_jpeg(1200, 800),
        ),
        (
            format!("private/content/{id}/drawing.png"),
            e2e_tests::encode(
                image::DynamicImage::ImageRgb8(image::RgbImage::new(300, 200)),
                image::ImageFormat::Png,
            ),
        ),
        (format!("private/content/{id}/phone.heic"), heic),
    ];
    for (key, body) in &uploads {
        stack.upload(key, body.clone(), None).await?;
    }
    // The stack's own functions finish first; then their work is removed.
    for (key, _) in &uploads {
        eventually("the item with faces", WAIT, || async {
            Ok(stack
                .item(&id, key)
                .await?
                .filter(|i| i.face_count.is_some() && i.thumbnail_key.is_some()))
        })
        .await?;
    }
    let derived = |key: &str, kind: &str| key.replacen("/content/", &format!("/{kind}/"), 1);
    for (key, _) in &uploads {
        for kind in ["thumbnails", "previews", "faces"] {
            stack.delete(&derived(key, kind)).await?;
        }
        stack
            .dynamodb
            .delete_item()
            .table_name(&stack.info.table)
            .key("identityId", AttributeValue::S(id.clone()))
            .key("objectKey", AttributeValue::S(key.clone()))
            .send()
            .await?;
    }
    let bodies: Vec<String> = uploads
        .iter()
        .enumerate()
        .map(|(n, (key, _))| s3_event_body("ObjectCreated:Put", key, &format!("{:016X}", n + 1)))
        .collect();
    let event = sqs_batch(&bodies);

    let answer = run_package(&stack, "content-updated", &event, &[]).await?;
    assert_answered(&answer, "content-updated");
    assert_eq!(answer.body["batchItemFailures"], json!([]), "{answer:?}");
    let answer = run_package(&stack, "face-detection", &event, &[]).await?;
    assert_answered(&answer, "face-detection");
    assert_eq!(answer.body["batchItemFailures"], json!([]), "{answer:?}");

    for (key, _) in &uploads {
        let item = stack
            .item(&id, key)
            .await?
            .with_context(|| format!("no item for {key}"))?;
        assert!(
            item.thumbnail_key.is_some() && item.preview_key.is_some(),
            "{key}: {item:?}"
        );
        assert!(item.face_count.is_some(), "{key}: {item:?}");
        for kind in ["thumbnails", "previews", "faces"] {
            assert!(
                stack.object(&derived(key, kind)).await?.is_some(),
                "{} missing",
                derived(key, kind)
            );
        }
    }
    Ok(())
}

/// update-content-index: a stream batch with one item's INSERT rewrites the owner's index.
#[tokio::test(flavor = "multi_thread")]
async fn the_index_package_publishes_from_a_stream_batch_as_lambda_starts_it() -> Result<()> {
    let stack = Stack::start().await?;
    let id = identity_id();
    let key = format!("private/content/{id}/note.jpg");
    stack.upload(&key, photo_jpeg(320, 240), None).await?;
    let index_key = format!("private/index/{id}/content.json");
    let item = eventually("the indexed item", WAIT, || async {
        let listed = stack
            .object(&index_key)
            .await?
            .is_some_and(|(body, _)| String::from_utf8_lossy(&body).contains("note.jpg"));
        Ok(if listed {
            stack.item(&id, &key).await?
        } else {
            None
        })
    })
    .await?;
    stack.delete(&index_key).await?;

    let image = serde_json::to_value(serde_dynamo::to_item::<_, serde_dynamo::Item>(&item)?)?;
    let record = json!({"eventID": "e1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/media/stream/x",
        "dynamodb": {"ApproximateCreationDateTime": 1_795_000_000.0, "Keys": {"identityId": {"S": id}, "objectKey": {"S": key}},
                     "NewImage": image, "SequenceNumber": "1", "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
    let answer = run_package(
        &stack,
        "update-content-index",
        &json!({"Records": [record]}),
        &[],
    )
    .await?;
    assert_answered(&answer, "update-content-index");
    let (body, _) = stack
        .object(&index_key)
        .await?
        .context("the private index was not written again")?;
    assert!(String::from_utf8_lossy(&body).contains("note.jpg"));
    Ok(())
}

/// purge-bucket and repair: what their schedules send (purge-bucket the event EventBridge makes).
#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_packages_run_as_lambda_starts_them() -> Result<()> {
    let stack = Stack::start().await?;
    let schedule = json!({"version": "0", "id": "d5e8", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "000000000000", "time": "2026-12-06T00:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/schedule"], "detail": {}});

    let old = "tmp/20000101000000-00000000-0000-4000-8000-000000000000.jpg";
    stack.upload(old, photo_jpeg(8, 8), None).await?;
    let answer = run_package(&stack, "purge-bucket", &schedule, &[]).await?;
    assert_answered(&answer, "purge-bucket");
    assert!(
        stack.object(old).await?.is_none(),
        "purge-bucket left {old}: {answer:?}"
    );

    // repair: a picture whose thumbnail was lost gets it back.
    let id = identity_id();
    let key = format!("public/content/{id}/lost.jpg");
    stack.upload(&key, photo_jpeg(400, 300), None).await?;
    eventually("the item", WAIT, || async {
        Ok(stack
            .item(&id, &key)
            .await?
            .filter(|i| i.face_count.is_some()))
    })
    .await?;
    let thumbnail = format!("public/thumbnails/{id}/lost.jpg");
    stack.delete(&thumbnail).await?;
    // The repair schedule sends `{}`, its Input in the template (EventBridge's own event is
    // refused: `RepairRequest::from_payload`).
    let answer = run_package(&stack, "repair", &json!({}), &[]).await?;
    assert_answered(&answer, "repair");
    eventually("the repaired thumbnail", WAIT, || async {
        Ok(stack.object(&thumbnail).await?.map(|_| ()))
    })
    .await
    .with_context(|| format!("repair answered {:?}", answer.body))?;
    Ok(())
}

/// migrate-user: Cognito's user-migration trigger for a user of the book's users table.
#[tokio::test(flavor = "multi_thread")]
async fn the_migration_package_answers_cognito_as_lambda_starts_it() -> Result<()> {
    let table = "SampleAuthUsers";
    let stack = Stack::start_with_parameters(&[("LegacyUsersTableName", table)]).await?;
    legacy_users_table(&stack, table, "old secret", &[("ann@example.com", true)]).await?;
    let event = user_migration_event(
        "UserMigration_Authentication",
        "ann@example.com",
        Some("old secret"),
    );
    let answer = run_package(&stack, "migrate-user", &event, &[]).await?;
    assert_answered(&answer, "migrate-user");
    assert_eq!(
        answer.body["response"]["finalUserStatus"], "CONFIRMED",
        "{answer:?}"
    );
    Ok(())
}

/// A package that needs a library Lambda does not provide fails to start: the sandbox gives
/// the process nothing of this machine's libraries.
#[tokio::test(flavor = "multi_thread")]
async fn a_package_missing_a_shipped_library_fails_to_start() -> Result<()> {
    let stack = Stack::start().await?;
    let source = packages_dir().join("face-detection");
    let broken = stack.state_dir.join("broken-face-detection");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&source)
        .arg(&broken)
        .status()?;
    if !status.success() {
        bail!("copying {}", source.display());
    }
    let opencv = std::fs::read_dir(broken.join("lib"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libopencv_dnn"))
        })
        .context("face-detection ships no libopencv_dnn")?;
    std::fs::remove_file(&opencv)?;
    let bodies = [s3_event_body(
        "ObjectCreated:Put",
        &format!("public/content/{}/x.jpg", identity_id()),
        "01",
    )];
    let name = stack.info.functions["face-detection"].clone();
    let event_file = stack.state_dir.join("broken-event.json");
    std::fs::write(&event_file, serde_json::to_vec(&sqs_batch(&bodies))?)?;
    let output = std::process::Command::new("python3")
        .arg(repo_root().join("infra/scripts/lambda_sandbox.py"))
        .arg("--package")
        .arg(&broken)
        .args([
            "--arch",
            "x86_64",
            "--function-name",
            &name,
            "--timeout",
            "60",
        ])
        .arg("--event")
        .arg(&event_file)
        .output()?;
    let answer: Value = serde_json::from_slice(&output.stdout)
        .with_context(|| String::from_utf8_lossy(&output.stderr).into_owned())?;
    assert_ne!(answer["status"], "response", "{answer}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("libopencv_dnn"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
