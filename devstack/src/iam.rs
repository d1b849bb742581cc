//! What an AWS request asks IAM for, read from the request alone: the actions it needs, on which
//! resources, with the condition keys the template's policies test (`s3:prefix`,
//! `dynamodb:LeadingKeys`, `dynamodb:Attributes`, `dynamodb:Select`, `dynamodb:ReturnValues`).
//!
//! One request may need several authorisations: CopyObject needs `s3:PutObject` on the target and
//! `s3:GetObject` on the source; DeleteObjects needs `s3:DeleteObject` on every key it names.
//! Sources: the S3 API reference ("Permissions" of each operation), the DynamoDB developer guide
//! ("Using IAM policy conditions for fine-grained access control"), the service authorisation
//! reference.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Authorization {
    pub action: String,
    pub resource: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Value>,
}

impl Authorization {
    fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Authorization {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }
    fn with(mut self, key: &str, value: Value) -> Self {
        self.context.insert(key.to_owned(), value);
        self
    }
}

/// The parts of an HTTP request the mapping reads.
pub struct Request<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub method: &'a str,
    /// The raw (percent-encoded) path.
    pub path: &'a str,
    pub query: &'a str,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// The hash (partition) key attribute of a table or index, e.g. from DescribeTable.
pub type KeySchema<'a> = &'a dyn Fn(&str, Option<&str>) -> Option<String>;

/// The operation's name and what it needs.
pub fn authorizations(request: &Request, hash_key: KeySchema) -> (String, Vec<Authorization>) {
    match request.service {
        "s3" => s3(request),
        "dynamodb" => dynamodb(request, hash_key),
        "lambda" => lambda(request),
        _ => query_protocol(request),
    }
}

pub fn percent_decode(raw: &str, plus_is_space: bool) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------- S3

fn s3(request: &Request) -> (String, Vec<Authorization>) {
    let query = query_pairs(request.query);
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let trimmed = request.path.trim_start_matches('/');
    let (bucket, key) = match trimmed.split_once('/') {
        Some((bucket, key)) => (
            percent_decode(bucket, false),
            Some(percent_decode(key, false)),
        ),
        None => (percent_decode(trimmed, false), None),
    };
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let method = request.method;
    // Subresources that name a bucket or object configuration (?tagging, ?acl, ...).
    const PARAMETERS: [&str; 12] = [
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "continuation-token",
        "start-after",
        "encoding-type",
        "fetch-owner",
        "marker",
        "x-id",
        "partNumber",
        "versionId",
    ];
    let subresource = query.iter().map(|(k, _)| k.as_str()).find(|k| {
        !PARAMETERS.contains(k) && !k.starts_with("X-Amz-") && !k.starts_with("response-")
    });
    if bucket.is_empty() {
        return (
            "ListBuckets".into(),
            vec![Authorization::new("s3:ListAllMyBuckets", "*")],
        );
    }
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return match (method, subresource) {
            ("GET", None) | ("HEAD", None) => {
                let operation = match method {
                    "HEAD" => "HeadBucket",
                    _ if param("list-type").as_deref() == Some("2") => "ListObjectsV2",
                    _ => "ListObjects",
                };
                let mut auth = Authorization::new("s3:ListBucket", &bucket_arn);
                if let Some(prefix) = param("prefix") {
                    auth = auth.with("s3:prefix", json!(prefix));
                }
                (operation.into(), vec![auth])
            }
            ("GET", Some("versions")) => (
                "ListObjectVersions".into(),
                vec![Authorization::new("s3:ListBucketVersions", &bucket_arn)],
            ),
            ("GET", Some("uploads")) => (
                "ListMultipartUploads".into(),
                vec![Authorization::new(
                    "s3:ListBucketMultipartUploads",
                    &bucket_arn,
                )],
            ),
            ("GET", Some("location")) => (
                "GetBucketLocation".into(),
                vec![Authorization::new("s3:GetBucketLocation", &bucket_arn)],
            ),
            ("POST", Some("delete")) => {
                let keys = xml_values(request.body, "Key");
                let auths = keys
                    .iter()
                    .map(|k| Authorization::new("s3:DeleteObject", format!("{bucket_arn}/{k}")))
                    .collect();
                ("DeleteObjects".into(), auths)
            }
            ("PUT", None) => (
                "CreateBucket".into(),
                vec![Authorization::new("s3:CreateBucket", &bucket_arn)],
            ),
            ("DELETE", None) => (
                "DeleteBucket".into(),
                vec![Authorization::new("s3:DeleteBucket", &bucket_arn)],
            ),
            (method, Some(sub)) => {
                let verb = match method {
                    "GET" | "HEAD" => "Get",
                    "DELETE" => "Delete",
                    _ => "Put",
                };
                let operation = format!("{verb}Bucket{}", capitalized(sub));
                (
                    operation.clone(),
                    vec![Authorization::new(format!("s3:{operation}"), &bucket_arn)],
                )
            }
            (method, None) => (
                format!("{method} bucket"),
                vec![Authorization::new("s3:?", &bucket_arn)],
            ),
        };
    };
    let object_arn = format!("{bucket_arn}/{key}");
    let copy_source = (request.header)("x-amz-copy-source").map(|source| {
        let source = percent_decode(&source, false);
        let source = source
            .split("?versionId=")
            .next()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned();
        Authorization::new("s3:GetObject", format!("arn:aws:s3:::{source}"))
    });
    let (operation, action) = match (method, subresource) {
        ("GET", None) | ("GET", Some("attributes")) => (
            if has("partNumber") {
                "GetObject (part)"
            } else {
                "GetObject"
            },
            "s3:GetObject",
        ),
        ("HEAD", None) => ("HeadObject", "s3:GetObject"),
        ("GET", Some("uploadId")) => ("ListParts", "s3:ListMultipartUploadParts"),
        ("PUT", Some("uploadId")) => (
            if copy_source.is_some() {
                "UploadPartCopy"
            } else {
                "UploadPart"
            },
            "s3:PutObject",
        ),
        ("PUT", None) => (
            if copy_source.is_some() {
                "CopyObject"
            } else {
                "PutObject"
            },
            "s3:PutObject",
        ),
        ("POST", Some("uploads")) => ("CreateMultipartUpload", "s3:PutObject"),
        ("POST", Some("uploadId")) => ("CompleteMultipartUpload", "s3:PutObject"),
        ("POST", None) => ("PostObject", "s3:PutObject"),
        ("DELETE", Some("uploadId")) => ("AbortMultipartUpload", "s3:AbortMultipartUpload"),
        ("DELETE", None) => ("DeleteObject", "s3:DeleteObject"),
        ("GET", Some("tagging")) => ("GetObjectTagging", "s3:GetObjectTagging"),
        ("PUT", Some("tagging")) => ("PutObjectTagging", "s3:PutObjectTagging"),
        ("DELETE", Some("tagging")) => ("DeleteObjectTagging", "s3:DeleteObjectTagging"),
        ("GET", Some("acl")) => ("GetObjectAcl", "s3:GetObjectAcl"),
        ("PUT", Some("acl")) => ("PutObjectAcl", "s3:PutObjectAcl"),
        _ => ("unknown object operation", "s3:?"),
    };
    let mut auths = vec![Authorization::new(action, object_arn)];
    if action == "s3:PutObject" {
        // Condition keys of s3:PutObject ("Actions, resources, and condition keys for Amazon
        // S3"): the headers as sent. The copy source stays as the caller encoded it: whether S3
        // decodes it before matching is not documented, so a policy must hold either way.
        for name in ["x-amz-copy-source", "x-amz-storage-class"] {
            if let Some(value) = (request.header)(name) {
                auths[0]
                    .context
                    .insert(format!("s3:{name}"), Value::String(value));
            }
        }
        auths.extend(copy_source);
    }
    (operation.into(), auths)
}

/// The text of every `<name>` element, unescaped (DeleteObjects' keys).
fn xml_values(body: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut values = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(&open) {
        rest = &rest[start + open.len()..];
        let Some(end) = rest.find(&close) else { break };
        values.push(
            rest[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&#13;", "\r")
                .replace("&#10;", "\n")
                .replace("&amp;", "&"),
        );
        rest = &rest[end + close.len()..];
    }
    values
}

// ---------------------------------------------------------------------------------- DynamoDB

fn dynamodb(request: &Request, hash_key: KeySchema) -> (String, Vec<Authorization>) {
    let target = (request.header)("x-amz-target").unwrap_or_default();
    let (prefix, operation) = target.split_once('.').unwrap_or(("", target.as_str()));
    let operation = operation.to_owned();
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    let table_arn = |table: &str| {
        if table.starts_with("arn:") {
            table.to_owned()
        } else {
            format!(
                "arn:aws:dynamodb:{}:{}:table/{table}",
                request.region, request.account
            )
        }
    };
    if prefix.starts_with("DynamoDBStreams") {
        let resource = body["StreamArn"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| match body["TableName"].as_str() {
                Some(table) => format!("{}/stream/*", table_arn(table)),
                None => "*".into(),
            });
        // GetRecords names a shard iterator, which names its stream only inside ministack.
        let resource = if operation == "GetRecords" {
            "*".into()
        } else {
            resource
        };
        return (
            operation.clone(),
            vec![Authorization::new(
                format!("dynamodb:{operation}"),
                resource,
            )],
        );
    }
    let action = format!("dynamodb:{operation}");
    let one = |table: &str, request_body: &Value, op: &str| -> Authorization {
        item_authorization(
            &format!("dynamodb:{op}"),
            op,
            &table_arn(table),
            table,
            request_body,
            hash_key,
        )
    };
    let auths = match operation.as_str() {
        "BatchGetItem" => {
            let mut auths = Vec::new();
            for (table, spec) in body["RequestItems"].as_object().into_iter().flatten() {
                for key in spec["Keys"].as_array().into_iter().flatten() {
                    let mut single = spec.clone();
                    single["Key"] = key.clone();
                    auths.push(one(table, &single, "BatchGetItem"));
                }
            }
            auths
        }
        "BatchWriteItem" => {
            let mut auths = Vec::new();
            for (table, writes) in body["RequestItems"].as_object().into_iter().flatten() {
                for write in writes.as_array().into_iter().flatten() {
                    if let Some(put) = write.get("PutRequest") {
                        auths.push(item_authorization(
                            "dynamodb:BatchWriteItem",
                            "PutItem",
                            &table_arn(table),
                            table,
                            put,
                            hash_key,
                        ));
                    }
                    if let Some(delete) = write.get("DeleteRequest") {
                        auths.push(item_authorization(
                            "dynamodb:BatchWriteItem",
                            "DeleteItem",
                            &table_arn(table),
                            table,
                            delete,
                            hash_key,
                        ));
                    }
                }
            }
            auths
        }
        "TransactWriteItems" | "TransactGetItems" => {
            let mut auths = Vec::new();
            for entry in body["TransactItems"].as_array().into_iter().flatten() {
                for (kind, op) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Get", "GetItem"),
                ] {
                    if let Some(part) = entry.get(kind) {
                        let table = part["TableName"].as_str().unwrap_or_default();
                        auths.push(one(table, part, op));
                    }
                }
            }
            auths
        }
        _ => match body["TableName"].as_str() {
            Some(table) => {
                let mut auth = one(table, &body, &operation);
                auth.action = action.clone();
                vec![auth]
            }
            None => vec![Authorization::new(action.clone(), "*")],
        },
    };
    (operation, auths)
}

fn item_authorization(
    action: &str,
    op: &str,
    table_arn: &str,
    table: &str,
    body: &Value,
    hash_key: KeySchema,
) -> Authorization {
    let index = body["IndexName"].as_str();
    let resource = match index {
        Some(index) => format!("{table_arn}/index/{index}"),
        None => table_arn.to_owned(),
    };
    let mut auth = Authorization::new(action, resource);
    let item_level = matches!(
        op,
        "GetItem"
            | "PutItem"
            | "UpdateItem"
            | "DeleteItem"
            | "Query"
            | "Scan"
            | "BatchGetItem"
            | "ConditionCheckItem"
    );
    if !item_level {
        return auth;
    }
    let names = |placeholder: &str| -> String {
        body["ExpressionAttributeNames"][placeholder]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| placeholder.to_owned())
    };
    // dynamodb:LeadingKeys: the partition key value the request touches.
    let partition = hash_key(table, index);
    let key_map = body.get("Key").or_else(|| body.get("Item"));
    let leading: Option<Value> = match (op, key_map, &partition) {
        ("Query", _, Some(partition)) => query_partition_value(body, partition, &names),
        (_, Some(key), Some(partition)) => key.get(partition).and_then(attribute_scalar),
        _ => None,
    };
    if let Some(leading) = leading {
        auth = auth.with("dynamodb:LeadingKeys", json!([leading]));
    }
    // dynamodb:Attributes: every top-level attribute the request names.
    let mut attributes = BTreeSet::new();
    if let Some(map) = key_map.and_then(Value::as_object) {
        attributes.extend(map.keys().cloned());
    }
    for field in [
        "UpdateExpression",
        "ConditionExpression",
        "ProjectionExpression",
        "KeyConditionExpression",
        "FilterExpression",
    ] {
        if let Some(expression) = body[field].as_str() {
            attributes.extend(expression_attributes(expression, &names));
        }
    }
    for name in body["AttributesToGet"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        attributes.insert(name.to_owned());
    }
    if !attributes.is_empty() {
        auth = auth.with(
            "dynamodb:Attributes",
            json!(attributes.into_iter().collect::<Vec<_>>()),
        );
    }
    // dynamodb:Select on reads, dynamodb:ReturnValues on writes.
    if matches!(op, "GetItem" | "Query" | "Scan" | "BatchGetItem") {
        let select = body["Select"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if body.get("ProjectionExpression").is_some()
                    || body.get("AttributesToGet").is_some()
                {
                    "SPECIFIC_ATTRIBUTES".into()
                } else if index.is_some() {
                    "ALL_PROJECTED_ATTRIBUTES".into()
                } else {
                    "ALL_ATTRIBUTES".into()
                }
            });
        auth = auth.with("dynamodb:Select", json!(select));
    }
    if matches!(op, "PutItem" | "UpdateItem" | "DeleteItem") {
        if let Some(values) = body["ReturnValues"].as_str() {
            auth = auth.with("dynamodb:ReturnValues", json!(values));
        }
    }
    auth
}

/// A key attribute's value as IAM sees it (`{"S": "x"}` -> `"x"`).
fn attribute_scalar(value: &Value) -> Option<Value> {
    let map = value.as_object()?;
    ["S", "N", "B"].iter().find_map(|t| map.get(*t).cloned())
}

/// The value a Query's key condition gives the partition key: `#pk = :v` or `pk = :v`.
fn query_partition_value(
    body: &Value,
    partition: &str,
    names: &dyn Fn(&str) -> String,
) -> Option<Value> {
    if let Some(condition) = body["KeyConditions"].get(partition) {
        return condition["AttributeValueList"]
            .get(0)
            .and_then(attribute_scalar);
    }
    let expression = body["KeyConditionExpression"].as_str()?;
    for clause in expression
        .split(|c: char| c.is_whitespace())
        .collect::<Vec<_>>()
        .join(" ")
        .split(" AND ")
        .chain(expression.split(" and "))
    {
        let Some((left, right)) = clause.split_once('=') else {
            continue;
        };
        let (left, right) = (
            left.trim().trim_start_matches('('),
            right.trim().trim_end_matches(')'),
        );
        let (name, placeholder) = if right.starts_with(':') {
            (left, right)
        } else {
            (right, left)
        };
        if names(name) == partition {
            return body["ExpressionAttributeValues"]
                .get(placeholder)
                .and_then(attribute_scalar);
        }
    }
    None
}

/// The top-level attribute names an expression uses: `#name` placeholders resolved, plain
/// names, never keywords, functions, values or nested path elements.
pub fn expression_attributes(expression: &str, names: &dyn Fn(&str) -> String) -> BTreeSet<String> {
    const WORDS: [&str; 20] = [
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
        "begins_with",
        "contains",
        "size",
        "if_not_exists",
        "list_append",
        "set",
        "remove",
        "and",
    ];
    let mut out = BTreeSet::new();
    let chars: Vec<char> = expression.chars().collect();
    let mut i = 0;
    let mut after_dot = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' || c == ':' || c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            // A function name is followed by "(".
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            let is_call = j < chars.len() && chars[j] == '(';
            if !after_dot
                && !token.starts_with(':')
                && !is_call
                && !WORDS.iter().any(|w| w.eq_ignore_ascii_case(&token))
            {
                out.insert(if token.starts_with('#') {
                    names(&token)
                } else {
                    token
                });
            }
            after_dot = false;
            continue;
        }
        if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        }
        after_dot = c == '.';
        i += 1;
    }
    out
}

// ------------------------------------------------------------------------------------ Lambda

fn lambda(request: &Request) -> (String, Vec<Authorization>) {
    let arn = |name: &str| {
        let name = percent_decode(name, false);
        if name.starts_with("arn:") {
            name
        } else {
            format!(
                "arn:aws:lambda:{}:{}:function:{name}",
                request.region, request.account
            )
        }
    };
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let (operation, action, resource) = match (request.method, segments.as_slice()) {
        ("POST", [_, "functions", name, "invocations"]) => {
            ("Invoke", "lambda:InvokeFunction", arn(name))
        }
        ("GET", [_, "functions", name, "configuration"]) => (
            "GetFunctionConfiguration",
            "lambda:GetFunctionConfiguration",
            arn(name),
        ),
        ("PUT", [_, "functions", name, "configuration"]) => (
            "UpdateFunctionConfiguration",
            "lambda:UpdateFunctionConfiguration",
            arn(name),
        ),
        ("GET", [_, "functions", name]) => ("GetFunction", "lambda:GetFunction", arn(name)),
        ("GET", [_, "functions"]) => ("ListFunctions", "lambda:ListFunctions", "*".into()),
        _ => ("unknown Lambda operation", "lambda:?", "*".into()),
    };
    (operation.into(), vec![Authorization::new(action, resource)])
}

// -------------------------------------------- SQS, SNS, STS, ... (query or JSON 1.0 protocol)

fn query_protocol(request: &Request) -> (String, Vec<Authorization>) {
    let target = (request.header)("x-amz-target");
    let (operation, params): (String, Value) = match target {
        Some(target) => {
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            (
                operation,
                serde_json::from_slice(request.body).unwrap_or(Value::Null),
            )
        }
        None => {
            let mut pairs = query_pairs(request.query);
            pairs.extend(query_pairs(&String::from_utf8_lossy(request.body)));
            let params: serde_json::Map<String, Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let operation = params
                .get("Action")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (operation, Value::Object(params))
        }
    };
    let service = request.service;
    let action_name = match (service, operation.as_str()) {
        ("sqs", "SendMessageBatch") => "SendMessage",
        ("sqs", "DeleteMessageBatch") => "DeleteMessage",
        ("sqs", "ChangeMessageVisibilityBatch") => "ChangeMessageVisibility",
        ("sns", "PublishBatch") => "Publish",
        (_, op) => op,
    };
    let action = format!(
        "{service}:{}",
        if action_name.is_empty() {
            "?"
        } else {
            action_name
        }
    );
    let resource = match service {
        "sqs" => params["QueueUrl"]
            .as_str()
            .map(|url| queue_arn(url, request.region))
            .unwrap_or_else(|| "*".into()),
        "sns" => params["TopicArn"].as_str().unwrap_or("*").to_owned(),
        _ => "*".into(),
    };
    (operation, vec![Authorization::new(action, resource)])
}

/// `http://host/000000000000/name` -> `arn:aws:sqs:region:000000000000:name`.
fn queue_arn(url: &str, region: &str) -> String {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        service: &str,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (String, Vec<Authorization>) {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let header = move |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let request = Request {
            service,
            region: "us-east-1",
            account: "000000000000",
            method,
            path,
            query,
            header: &header,
            body: body.as_bytes(),
        };
        authorizations(&request, &|_, index| {
            Some(if index.is_some() {
                "uploadDay".into()
            } else {
                "identityId".into()
            })
        })
    }

    #[test]
    fn s3_operations() {
        let (op, a) = run(
            "s3",
            "HEAD",
            "/b/public/content/us-east-1%3Aabc/cat%20x.jpg",
            "",
            &[],
            "",
        );
        assert_eq!(op, "HeadObject");
        assert_eq!(
            a,
            vec![Authorization::new(
                "s3:GetObject",
                "arn:aws:s3:::b/public/content/us-east-1:abc/cat x.jpg"
            )]
        );
        let (op, a) = run("s3", "GET", "/b", "list-type=2&prefix=tmp%2F", &[], "");
        assert_eq!(op, "ListObjectsV2");
        assert_eq!(a[0].context["s3:prefix"], json!("tmp/"));
        let (op, a) = run(
            "s3",
            "PUT",
            "/b/private/content/x.jpg",
            "x-id=CopyObject",
            &[("x-amz-copy-source", "b/public/content/x.jpg")],
            "",
        );
        assert_eq!(op, "CopyObject");
        assert_eq!(
            a.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
            ["s3:PutObject", "s3:GetObject"]
        );
        assert_eq!(a[1].resource, "arn:aws:s3:::b/public/content/x.jpg");
        assert_eq!(
            a[0].context["s3:x-amz-copy-source"],
            json!("b/public/content/x.jpg")
        );
        let (_, a) = run(
            "s3",
            "PUT",
            "/b/private/content/x.jpg",
            "",
            &[("x-amz-storage-class", "DEEP_ARCHIVE")],
            "",
        );
        assert_eq!(
            a[0].context["s3:x-amz-storage-class"],
            json!("DEEP_ARCHIVE")
        );
        let body = "<Delete><Object><Key>tmp/a</Key></Object><Object><Key>tmp/b&amp;c</Key></Object></Delete>";
        let (op, a) = run("s3", "POST", "/b", "delete", &[], body);
        assert_eq!(op, "DeleteObjects");
        assert_eq!(
            a.iter().map(|a| a.resource.as_str()).collect::<Vec<_>>(),
            ["arn:aws:s3:::b/tmp/a", "arn:aws:s3:::b/tmp/b&c"]
        );
        let (_, a) = run(
            "s3",
            "GET",
            "/b/tmp/x.jpg",
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k%2F2026",
            &[],
            "",
        );
        assert_eq!(a[0].action, "s3:GetObject");
        let (op, _) = run("s3", "PUT", "/b/k", "partNumber=1&uploadId=u", &[], "");
        assert_eq!(op, "UploadPart");
        let (op, a) = run("s3", "DELETE", "/b/k", "uploadId=u", &[], "");
        assert_eq!(
            (op.as_str(), a[0].action.as_str()),
            ("AbortMultipartUpload", "s3:AbortMultipartUpload")
        );
    }

    #[test]
    fn dynamodb_conditions() {
        let body = r##"{"TableName":"t","Key":{"identityId":{"S":"us-east-1:1"},"objectKey":{"S":"k"}},
            "UpdateExpression":"SET #t = :t, description = :d REMOVE faces[0], a.b","ConditionExpression":"attribute_not_exists(sequencer) OR #s < :s",
            "ExpressionAttributeNames":{"#t":"title","#s":"sequencer"},"ReturnValues":"NONE"}"##;
        let (op, a) = run(
            "dynamodb",
            "POST",
            "/",
            "",
            &[("X-Amz-Target", "DynamoDB_20120810.UpdateItem")],
            body,
        );
        assert_eq!(op, "UpdateItem");
        assert_eq!(
            a[0].resource,
            "arn:aws:dynamodb:us-east-1:000000000000:table/t"
        );
        assert_eq!(a[0].context["dynamodb:LeadingKeys"], json!(["us-east-1:1"]));
        assert_eq!(
            a[0].context["dynamodb:Attributes"],
            json!([
                "a",
                "description",
                "faces",
                "identityId",
                "objectKey",
                "sequencer",
                "title"
            ])
        );
        assert_eq!(a[0].context["dynamodb:ReturnValues"], json!("NONE"));
        let body = r##"{"TableName":"t","IndexName":"i","KeyConditionExpression":"#d = :d AND uploadDate > :x",
            "ExpressionAttributeNames":{"#d":"uploadDay"},"ExpressionAttributeValues":{":d":{"S":"2026-01-01"},":x":{"S":"1"}}}"##;
        let (_, a) = run(
            "dynamodb",
            "POST",
            "/",
            "",
            &[("X-Amz-Target", "DynamoDB_20120810.Query")],
            body,
        );
        assert_eq!(
            a[0].resource,
            "arn:aws:dynamodb:us-east-1:000000000000:table/t/index/i"
        );
        assert_eq!(a[0].context["dynamodb:LeadingKeys"], json!(["2026-01-01"]));
        assert_eq!(
            a[0].context["dynamodb:Select"],
            json!("ALL_PROJECTED_ATTRIBUTES")
        );
        let body = r##"{"TableName":"t","Key":{"identityId":{"S":"x"},"objectKey":{"S":"k"}},"ProjectionExpression":"#s","ExpressionAttributeNames":{"#s":"sequencer"}}"##;
        let (_, a) = run(
            "dynamodb",
            "POST",
            "/",
            "",
            &[("X-Amz-Target", "DynamoDB_20120810.GetItem")],
            body,
        );
        assert_eq!(
            a[0].context["dynamodb:Select"],
            json!("SPECIFIC_ATTRIBUTES")
        );
        assert_eq!(
            a[0].context["dynamodb:Attributes"],
            json!(["identityId", "objectKey", "sequencer"])
        );
    }

    #[test]
    fn queues_and_functions() {
        let body = r#"{"QueueUrl":"http://127.0.0.1:4566/000000000000/q1","Entries":[]}"#;
        let (op, a) = run(
            "sqs",
            "POST",
            "/",
            "",
            &[("X-Amz-Target", "AmazonSQS.SendMessageBatch")],
            body,
        );
        assert_eq!(op, "SendMessageBatch");
        assert_eq!(
            a,
            vec![Authorization::new(
                "sqs:SendMessage",
                "arn:aws:sqs:us-east-1:000000000000:q1"
            )]
        );
        let (_, a) = run(
            "lambda",
            "POST",
            "/2015-03-31/functions/media-sharing-repair/invocations",
            "",
            &[],
            "{}",
        );
        assert_eq!(
            a[0].resource,
            "arn:aws:lambda:us-east-1:000000000000:function:media-sharing-repair"
        );
        let (op, a) = run(
            "sns",
            "POST",
            "/",
            "",
            &[],
            "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A0%3At",
        );
        assert_eq!(
            (op.as_str(), a[0].resource.as_str()),
            ("Publish", "arn:aws:sns:us-east-1:0:t")
        );
    }
}
