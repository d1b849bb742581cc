//! The stack's AWS endpoint: a reverse proxy in front of the emulator that records every request
//! with the principal that made it and what IAM would have to allow (`iam.rs`), so the tests'
//! requests can be evaluated against the template's policies (`infra/test/replay.mjs`). The
//! emulator enforces no IAM itself.
//!
//! Principals:
//! - a deployed function: the emulator gives every function the account id as its access key, so
//!   the function is the process at the other end of the TCP connection (its port ->
//!   `/proc/net/tcp` inode -> the process holding that socket -> its `AWS_LAMBDA_FUNCTION_NAME`);
//!   a URL a function presigned is its signer's, known from the Invoke answer that carried it;
//! - the web client: the access keys the identity pool hands out, learnt from the
//!   GetCredentialsForIdentity answers that pass through here (Logins present: the signed-in role);
//! - the harness: the stack's own keys (`stack.json`), recorded, never evaluated;
//! - anonymous: unsigned requests (the Cognito sign-in and identity calls).
//!
//! Records are JSON lines in `{state dir}/requests.jsonl` and, when `AWS_REQUEST_LOG` names a file,
//! appended there too, so a whole test run collects into one file.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::iam;

/// A DynamoDB table and, for a query of a secondary index, the index's name.
type TableIndex = (String, Option<String>);

/// What the recorder knows about the stack it stands in front of.
pub struct StackRecord {
    pub label: String,
    /// The `stack` line: physical names by logical id, account, parameters.
    pub description: Value,
    pub stack_id: String,
    pub account: String,
    pub harness_key: String,
}

pub struct Proxy {
    upstream: String,
    client: reqwest::Client,
    stack: StackRecord,
    files: Vec<Mutex<std::fs::File>>,
    /// Web client access key -> (identity id, signed in).
    web_keys: Mutex<HashMap<String, (String, bool)>>,
    /// Socket inode -> function name.
    sockets: Mutex<HashMap<u64, Option<String>>>,
    /// Presigned URL signature -> the function whose Invoke answer carried the URL.
    presigned: Mutex<HashMap<String, String>>,
    /// (table, index) -> partition key attribute.
    key_schemas: Mutex<HashMap<TableIndex, Option<String>>>,
    local_port: u16,
}

impl Proxy {
    pub fn new(
        upstream: String,
        stack: StackRecord,
        state_dir: &std::path::Path,
        local_port: u16,
    ) -> Result<Arc<Proxy>> {
        let mut paths = vec![state_dir.join("requests.jsonl")];
        if let Some(shared) = std::env::var_os("AWS_REQUEST_LOG").filter(|p| !p.is_empty()) {
            let shared = PathBuf::from(shared);
            if let Some(parent) = shared.parent() {
                std::fs::create_dir_all(parent)?;
            }
            paths.push(shared);
        }
        let files = paths
            .iter()
            .map(|p| {
                Ok(Mutex::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let proxy = Proxy {
            upstream,
            client,
            stack,
            files,
            web_keys: Mutex::default(),
            sockets: Mutex::default(),
            presigned: Mutex::default(),
            key_schemas: Mutex::default(),
            local_port,
        };
        proxy.write(&json!({"stack": proxy.stack.description, "label": proxy.stack.label, "stackId": proxy.stack.stack_id}));
        Ok(Arc::new(proxy))
    }

    fn write(&self, line: &Value) {
        let mut text = line.to_string();
        text.push('\n');
        for file in &self.files {
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(text.as_bytes());
            }
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    proxy: Arc<Proxy>,
    shutdown: CancellationToken,
) -> Result<()> {
    let router = axum::Router::new().fallback(handle).with_state(proxy);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await?;
    Ok(())
}

/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...`, or the same in a
/// presigned URL's `X-Amz-Credential`: (key, region, service).
fn credential(headers: &HeaderMap, query: &str) -> Option<(String, String, String)> {
    let scope = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default().to_owned())
        .or_else(|| {
            iam::query_pairs(query)
                .into_iter()
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v)
        })?;
    let mut parts = scope.split('/');
    let key = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    Some((key, region, service))
}

async fn handle(
    State(proxy): State<Arc<Proxy>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    match forward(&proxy, peer, request).await {
        Ok(response) => response,
        Err(err) => {
            tracing::warn!(error = %err, "the AWS proxy could not reach the emulator");
            Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(err.to_string()))
                .expect("response")
        }
    }
}

async fn forward(proxy: &Proxy, peer: SocketAddr, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await?;
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let method = parts.method.as_str().to_owned();
    let recorded = method != "OPTIONS"
        && !path.starts_with("/_ministack")
        && !path.starts_with("/_localstack");

    // Who is asking, decided while the connection is open (the peer's process is looked up by its socket).
    let signed = credential(&parts.headers, &query);
    let principal = match &signed {
        _ if !recorded => Value::Null,
        None => json!({"kind": "anonymous"}),
        Some((key, _, _)) if *key == proxy.stack.harness_key => json!({"kind": "harness"}),
        Some((key, _, _)) => {
            let web = proxy.web_keys.lock().expect("web keys").get(key).cloned();
            let presigner = signature(&query).and_then(|sig| {
                proxy
                    .presigned
                    .lock()
                    .expect("presigned")
                    .get(&sig)
                    .cloned()
            });
            match (web, presigner) {
                (Some((identity, signed_in)), _) => {
                    json!({"kind": "web", "identityId": identity, "authenticated": signed_in})
                }
                // A URL a function presigned and handed out, fetched by whoever it was given to.
                (None, Some(function)) => {
                    json!({"kind": "function", "function": function, "presigned": true})
                }
                (None, None) => match tokio::task::block_in_place(|| function_of_peer(proxy, peer))
                {
                    Some(function) => json!({"kind": "function", "function": function}),
                    None => json!({"kind": "unknown", "accessKey": key}),
                },
            }
        }
    };

    let url = format!(
        "{}{}",
        proxy.upstream,
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut headers = parts.headers.clone();
    for hop in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "expect",
        "upgrade",
        "te",
        "trailer",
    ] {
        headers.remove(hop);
    }
    let upstream = proxy
        .client
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body.clone())
        .send()
        .await?;
    let status = upstream.status();
    let mut response_headers = upstream.headers().clone();
    let response_body = upstream.bytes().await?;
    for hop in ["connection", "keep-alive", "transfer-encoding"] {
        response_headers.remove(hop);
    }

    if recorded {
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let (region, service) = match &signed {
            Some((_, region, service)) => (region.clone(), service.clone()),
            None if target.starts_with("AWSCognitoIdentityService") => {
                (crate::REGION.into(), "cognito-identity".into())
            }
            None if target.starts_with("AWSCognitoIdentityProviderService") => {
                (crate::REGION.into(), "cognito-idp".into())
            }
            None if parts.headers.contains_key("x-amz-target") => {
                (crate::REGION.into(), "unknown".into())
            }
            None => (crate::REGION.into(), "s3".into()),
        };
        if service == "cognito-identity"
            && target.ends_with(".GetCredentialsForIdentity")
            && status.is_success()
        {
            learn_web_key(proxy, &body, &response_body);
        }
        if service == "lambda" && status.is_success() && path.ends_with("/invocations") {
            learn_presigned_urls(proxy, &path, &response_body);
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let hash_key = |table: &str, index: Option<&str>| partition_key(proxy, table, index);
        let iam_request = iam::Request {
            service: &service,
            region: &region,
            account: &proxy.stack.account,
            method: &method,
            path: &path,
            query: &query,
            header: &header,
            body: &body,
        };
        let (operation, authorizations) = if matches!(
            service.as_str(),
            "cognito-identity" | "cognito-idp" | "sts" | "unknown"
        ) {
            (
                target.rsplit('.').next().unwrap_or_default().to_owned(),
                Vec::new(),
            )
        } else {
            tokio::task::block_in_place(|| iam::authorizations(&iam_request, &hash_key))
        };
        let operation = if operation.is_empty() && service == "sts" {
            iam::query_pairs(&String::from_utf8_lossy(&body))
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v)
                .unwrap_or_default()
        } else {
            operation
        };
        proxy.write(&json!({
            "label": proxy.stack.label,
            "stackId": proxy.stack.stack_id,
            "principal": principal,
            "service": service,
            "operation": operation,
            "method": method,
            "path": path,
            "status": status.as_u16(),
            "authorizations": authorizations,
        }));
    }

    let mut response = Response::builder().status(status);
    *response.headers_mut().expect("headers") = response_headers;
    Ok(response.body(Body::from(response_body))?)
}

/// GetCredentialsForIdentity: request `IdentityId` (+ `Logins` when signed in), answer
/// `Credentials.AccessKeyId`.
fn learn_web_key(proxy: &Proxy, request: &[u8], response: &[u8]) {
    let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    let response: Value = serde_json::from_slice(response).unwrap_or(Value::Null);
    let (Some(identity), Some(key)) = (
        request["IdentityId"].as_str(),
        response["Credentials"]["AccessKeyId"].as_str(),
    ) else {
        return;
    };
    let signed_in = request["Logins"]
        .as_object()
        .is_some_and(|logins| !logins.is_empty());
    proxy
        .web_keys
        .lock()
        .expect("web keys")
        .insert(key.to_owned(), (identity.to_owned(), signed_in));
}

/// A presigned URL's `X-Amz-Signature`.
fn signature(query: &str) -> Option<String> {
    iam::query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v)
}

/// The presigned URLs in a function's Invoke answer (face-detection's direct call answers
/// with a link): every function signs with the same key locally, so a URL's signature is
/// what ties a later GET to the function that signed it.
fn learn_presigned_urls(proxy: &Proxy, path: &str, answer: &[u8]) {
    let Some(function) = path.trim_matches('/').split('/').nth(2) else {
        return;
    };
    let function = iam::percent_decode(function, false);
    let function = function.rsplit(':').next().unwrap_or_default().to_owned();
    let text = String::from_utf8_lossy(answer);
    for part in text.split("X-Amz-Signature=").skip(1) {
        let sig: String = part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        if sig.len() == 64 {
            proxy
                .presigned
                .lock()
                .expect("presigned")
                .insert(sig, function.clone());
        }
    }
}

/// The partition key of a table or one of its indexes, from DescribeTable on the emulator.
fn partition_key(proxy: &Proxy, table: &str, index: Option<&str>) -> Option<String> {
    let cache_key = (table.to_owned(), index.map(str::to_owned));
    if let Some(known) = proxy.key_schemas.lock().expect("schemas").get(&cache_key) {
        return known.clone();
    }
    let described = tokio::runtime::Handle::current().block_on(async {
        let response = proxy
            .client
            .post(format!("{}/", proxy.upstream))
            .header("x-amz-target", "DynamoDB_20120810.DescribeTable")
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential={}/20260101/{}/dynamodb/aws4_request, SignedHeaders=host, Signature=0", proxy.stack.harness_key, crate::REGION),
            )
            .body(json!({"TableName": table}).to_string())
            .send()
            .await
            .ok()?;
        response.json::<Value>().await.ok()
    })?;
    let hash = |schema: &Value| {
        schema
            .as_array()?
            .iter()
            .find(|k| k["KeyType"] == "HASH")
            .and_then(|k| k["AttributeName"].as_str())
            .map(str::to_owned)
    };
    let table_description = &described["Table"];
    let found = match index {
        None => hash(&table_description["KeySchema"]),
        Some(index) => ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"]
            .iter()
            .flat_map(|kind| {
                table_description[kind]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|i| i["IndexName"] == index)
            .and_then(|i| hash(&i["KeySchema"])),
    };
    if found.is_some() {
        proxy
            .key_schemas
            .lock()
            .expect("schemas")
            .insert(cache_key, found.clone());
    }
    found
}

/// The deployed function at the other end of a connection from 127.0.0.1: the socket's inode
/// from /proc/net/tcp, the process that holds it, that process's AWS_LAMBDA_FUNCTION_NAME.
fn function_of_peer(proxy: &Proxy, peer: SocketAddr) -> Option<String> {
    let inode = socket_inode(peer.port(), proxy.local_port)?;
    if let Some(known) = proxy.sockets.lock().expect("sockets").get(&inode) {
        return known.clone();
    }
    let function = process_of_socket(inode).and_then(|pid| {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        environ
            .split(|b| *b == 0)
            .find_map(|entry| entry.strip_prefix(b"AWS_LAMBDA_FUNCTION_NAME="))
            .map(|name| String::from_utf8_lossy(name).into_owned())
    });
    proxy
        .sockets
        .lock()
        .expect("sockets")
        .insert(inode, function.clone());
    function
}

fn socket_inode(peer_port: u16, local_port: u16) -> Option<u64> {
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 {
                continue;
            }
            let port = |address: &str| {
                address
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if port(fields[1]) == Some(peer_port) && port(fields[2]) == Some(local_port) {
                return fields[9].parse().ok().filter(|inode| *inode != 0);
            }
        }
    }
    None
}

fn process_of_socket(inode: u64) -> Option<u32> {
    let wanted = format!("socket:[{inode}]");
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path())
                .is_ok_and(|target| target.as_os_str() == wanted.as_str())
            {
                return Some(pid);
            }
        }
    }
    None
}
