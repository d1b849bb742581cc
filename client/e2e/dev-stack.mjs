#!/usr/bin/env node
// DEV-ONLY. Not used by `make test` when a real devstack exists.
//
// A minimal stand-in for devstack: provisions bucket, table,
// user pool and identity pool on an already running ministack, serves
// client/dist plus /config.json on a free port, and runs a crude fake backend
// (copies originals as "thumbnails" and "faces" copies, writes table items and
// both indexes). Writes a stack.json shaped like devstack's.
//
//   node e2e/dev-stack.mjs --endpoint http://127.0.0.1:45660 --out /tmp/ms/stack.json
//
// Runs in the foreground until interrupted.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  S3Client, CreateBucketCommand, PutBucketCorsCommand, ListObjectsV2Command,
  HeadObjectCommand, CopyObjectCommand, PutObjectCommand, DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import {
  DynamoDBClient, CreateTableCommand, ScanCommand, PutItemCommand, DeleteItemCommand,
  DescribeTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CognitoIdentityProviderClient, CreateUserPoolCommand, CreateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentityClient, CreateIdentityPoolCommand } from '@aws-sdk/client-cognito-identity';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const endpoint = args.endpoint ?? 'http://127.0.0.1:45660';
const out = args.out ?? '/tmp/ms/stack.json';
const distDir = path.resolve(args.dist ?? path.join(here, '..', 'dist'));
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const common = { endpoint, region, credentials };
const bucket = 'media-share-dev';
const table = 'media-share-content';

const s3 = new S3Client({ ...common, forcePathStyle: true });
const ddb = new DynamoDBClient(common);
const idp = new CognitoIdentityProviderClient(common);
const cid = new CognitoIdentityClient(common);

async function provision() {
  try { await s3.send(new CreateBucketCommand({ Bucket: bucket })); } catch (e) { if (!/Owned|Exists/.test(e.name)) throw e; }
  await s3.send(new PutBucketCorsCommand({
    Bucket: bucket,
    CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'Last-Modified'] }] },
  }));
  try { await ddb.send(new DescribeTableCommand({ TableName: table })); } catch {
    await ddb.send(new CreateTableCommand({
      TableName: table, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'identityId', AttributeType: 'S' }, { AttributeName: 'objectKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'identityId', KeyType: 'HASH' }, { AttributeName: 'objectKey', KeyType: 'RANGE' }],
    }));
  }
  const pool = await idp.send(new CreateUserPoolCommand({ PoolName: 'media-share-dev', AutoVerifiedAttributes: ['email'], UsernameAttributes: ['email'] }));
  const userPoolId = pool.UserPool.Id;
  const client = await idp.send(new CreateUserPoolClientCommand({
    UserPoolId: userPoolId, ClientName: 'web', GenerateSecret: false,
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH'],
  }));
  const userPoolClientId = client.UserPoolClient.ClientId;
  const ip = await cid.send(new CreateIdentityPoolCommand({
    IdentityPoolName: 'media_share_dev', AllowUnauthenticatedIdentities: true,
    CognitoIdentityProviders: [{ ProviderName: `cognito-idp.${region}.amazonaws.com/${userPoolId}`, ClientId: userPoolClientId }],
  }));
  return { userPoolId, userPoolClientId, identityPoolId: ip.IdentityPoolId };
}

// ---- crude fake backend -------------------------------------------------------
const seen = new Map(); // objectKey -> etag
const S = (v) => ({ S: String(v) });
async function listAll(prefix) {
  const keys = [];
  let token;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) keys.push(o);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}
async function fakeBackendTick() {
  const objects = [...await listAll('public/content/'), ...await listAll('private/content/')];
  const present = new Set();
  let changed = false;
  for (const o of objects) {
    present.add(o.Key);
    if (seen.get(o.Key) === o.ETag) continue;
    seen.set(o.Key, o.ETag);
    changed = true;
    const [vis, , identityId] = o.Key.split('/');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key }));
    let meta = {};
    try { meta = JSON.parse(head.Metadata?.data ?? '{}'); } catch { /* fall back */ }
    const file = o.Key.split('/').pop();
    const thumbnailKey = o.Key.replace('/content/', '/thumbnails/');
    const facesKey = o.Key.replace('/content/', '/faces/');
    for (const k of [thumbnailKey, facesKey]) {
      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: k, CopySource: `${bucket}/${encodeURIComponent(o.Key)}` }));
    }
    const uploadDate = new Date().toISOString();
    await ddb.send(new PutItemCommand({
      TableName: table,
      Item: {
        identityId: S(identityId), objectKey: S(o.Key), thumbnailKey: S(thumbnailKey), facesKey: S(facesKey),
        faceCount: { N: '0' }, faces: { L: [] }, isPublic: { BOOL: vis === 'public' },
        title: S(meta.title || file), description: S(meta.description ?? ''), uploadDate: S(uploadDate),
        contentType: S(head.ContentType ?? 'application/octet-stream'), width: { N: '100' }, height: { N: '100' },
      },
    }));
  }
  for (const k of [...seen.keys()]) {
    if (present.has(k)) continue;
    seen.delete(k);
    changed = true;
    const identityId = k.split('/')[2];
    await ddb.send(new DeleteItemCommand({ TableName: table, Key: { identityId: S(identityId), objectKey: S(k) } }));
    for (const d of ['thumbnails', 'faces']) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: k.replace('/content/', `/${d}/`) }));
  }
  // indexes from a full scan (edits show up here too)
  const items = [];
  let start;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...r.Items);
    start = r.LastEvaluatedKey;
  } while (start);
  const plain = items.map((it) => ({
    identityId: it.identityId.S, objectKey: it.objectKey.S, thumbnailKey: it.thumbnailKey?.S, facesKey: it.facesKey?.S,
    faceCount: it.faceCount ? Number(it.faceCount.N) : undefined, isPublic: it.isPublic?.BOOL ?? false,
    title: it.title?.S ?? '', description: it.description?.S ?? '', uploadDate: it.uploadDate?.S ?? '',
    contentType: it.contentType?.S, width: Number(it.width?.N ?? 0), height: Number(it.height?.N ?? 0),
  })).sort((a, b) => (a.uploadDate < b.uploadDate ? 1 : -1));
  const docs = new Map([['public/index/content.json', plain.filter((i) => i.isPublic).slice(0, 100)]]);
  for (const i of plain) docs.set(`private/index/${i.identityId}/content.json`, plain.filter((j) => j.identityId === i.identityId));
  for (const [key, list] of docs) {
    const body = JSON.stringify({ version: 1, items: list });
    if (lastWritten.get(key) === body) continue;
    lastWritten.set(key, body);
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: key, ContentType: 'application/json', CacheControl: 'no-cache',
      Body: JSON.stringify({ version: 1, generatedAt: new Date().toISOString(), items: list }),
    }));
  }
  // private indexes of identities that no longer have any item
  for (const key of lastWritten.keys()) {
    if (!docs.has(key) && lastWritten.get(key) !== '[]') {
      lastWritten.set(key, '[]');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'application/json', CacheControl: 'no-cache', Body: JSON.stringify({ version: 1, generatedAt: new Date().toISOString(), items: [] }) }));
    }
  }
  return changed;
}
const lastWritten = new Map();

// ---- static server -------------------------------------------------------------
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
function serve(config) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      return res.end(JSON.stringify(config));
    }
    const p = path.join(distDir, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    const file = fs.existsSync(p) && fs.statSync(p).isFile() ? p : path.join(distDir, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const ids = await provision();
const config = { endpoint, region, bucket, table, ...ids, s3ForcePathStyle: true };
const server = await serve(config);
const clientUrl = `http://127.0.0.1:${server.address().port}/`;
fs.writeFileSync(out, JSON.stringify({ ...config, clientUrl, accessKeyId: 'test', secretAccessKey: 'test' }, null, 2));
console.log(`dev stack ready: ${clientUrl} (stack.json at ${out})`);
let busy = false;
setInterval(async () => {
  if (busy) return;
  busy = true;
  try { await fakeBackendTick(); } catch (e) { console.error('fake backend:', e); } finally { busy = false; }
}, 1000);
