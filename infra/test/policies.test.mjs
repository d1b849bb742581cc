// The permission matrix of infra/template.yaml, evaluated offline with
// @cloud-copilot/iam-simulate against the template's real policies (the
// identity policies of each role plus the bucket policy for S3 requests).
//
// Personas: the owner and another signed-in user (Cognito authenticated role,
// each with their own identity id as ${cognito-identity.amazonaws.com:sub}), a
// visitor (unauthenticated role), and the five function roles.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { evaluateWithContext } from './simulate.mjs'
import { ACCOUNT, loadTemplate, Resolver } from './cfn.mjs'

const template = loadTemplate()
// A stack that migrates the book's users: migrate-user's read grant exists only then.
const LEGACY_TABLE = 'SampleAuthUsers'
const resolver = new Resolver(template, { parameters: { LegacyUsersTableName: LEGACY_TABLE } })
const resources = template.Resources

const BUCKET_ARN = resolver.atts['MediaBucket.Arn']
const TABLE_ARN = resolver.atts['ContentTable.Arn']
const GSI_ARN = `${TABLE_ARN}/index/uploadDay-uploadDate-index`
const OWNER_GSI_ARN = `${TABLE_ARN}/index/identityId-uploadDate-index`
const STREAM_ARN = resolver.atts['ContentTable.StreamArn']
const LEGACY_TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LEGACY_TABLE}`
const QUEUE = {
  contentUpdated: resolver.atts['ContentUpdatedQueue.Arn'],
  faceDetection: resolver.atts['FaceDetectionQueue.Arn'],
  indexFailures: resolver.atts['IndexUpdateFailuresQueue.Arn'],
}
const LOGS = (fn) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/media-sharing-${fn}:log-stream:2026/01/01/[$LATEST]abc`

const OWNER = 'us-east-1:11111111-1111-4111-8111-111111111111'
const OTHER = 'us-east-1:22222222-2222-4222-8222-222222222222'
const VISITOR = 'us-east-1:33333333-3333-4333-8333-333333333333'
const SUB_KEY = 'cognito-identity.amazonaws.com:sub'

const bucketPolicy = resolver.resolve(resources.MediaBucketPolicy.Properties.PolicyDocument)

function logicalIdOfGetAttArn(node) {
  const v = node?.['Fn::GetAtt']
  assert.ok(Array.isArray(v) && v[1] === 'Arn', `expected !GetAtt X.Arn, got ${JSON.stringify(node)}`)
  return v[0]
}

function rolePolicies(roleId) {
  const role = resources[roleId]
  assert.equal(role?.Type, 'AWS::IAM::Role', `${roleId} is a role`)
  assert.equal(role.Properties.ManagedPolicyArns, undefined, `${roleId} has no managed policies`)
  assert.equal(role.Properties.PermissionsBoundary, undefined)
  // Resolved as a list: a policy under !If (migrate-user's read grant) may not exist.
  return resolver.resolve(role.Properties.Policies).map((p) => ({
    name: `${roleId}/${p.PolicyName}`,
    policy: p.PolicyDocument,
  }))
}

const attachment = Object.values(resources).find((r) => r.Type === 'AWS::Cognito::IdentityPoolRoleAttachment')
const functionRole = (fnId) => logicalIdOfGetAttArn(resources[fnId].Properties.Role)

const PERSONAS = {
  owner: { role: logicalIdOfGetAttArn(attachment.Properties.Roles.authenticated), sub: OWNER },
  other: { role: logicalIdOfGetAttArn(attachment.Properties.Roles.authenticated), sub: OTHER },
  visitor: { role: logicalIdOfGetAttArn(attachment.Properties.Roles.unauthenticated), sub: VISITOR },
  'content-updated': { role: functionRole('ContentUpdatedFunction') },
  'face-detection': { role: functionRole('FaceDetectionFunction') },
  'update-content-index': { role: functionRole('UpdateContentIndexFunction') },
  'purge-bucket': { role: functionRole('PurgeBucketFunction') },
  'migrate-user': { role: functionRole('MigrateUserFunction') },
  repair: { role: functionRole('RepairFunction') },
}

// ------------------------------------------------------------------ cases

const ALLOW = 'Allowed'
const DENY = 'Denied'
const s3 = (key) => `${BUCKET_ARN}/${key}`
const EDIT = ['identityId', 'objectKey', 'title', 'description']
const upd = (leadingKey, attributes, extra = {}) => ({
  'dynamodb:LeadingKeys': [leadingKey],
  'dynamodb:Attributes': attributes,
  ...extra,
})

const cases = []
const add = (who, action, resource, expect, note = '', context = {}) =>
  cases.push({ who, action, resource, needs: [{ action, resource }], expect, note, context })
// One API request named by its operation, allowed only when every authorisation it needs is:
// HeadObject needs s3:GetObject on the key (S3 API reference, HeadObject, "Permissions");
// CopyObject needs s3:PutObject on the destination and s3:GetObject on the copy source (S3 API
// reference, CopyObject, "Permissions").
const request = {
  HeadObject: (key) => [{ action: 's3:GetObject', resource: s3(key) }],
  CopyObject: (source, destination) => [
    { action: 's3:PutObject', resource: s3(destination) },
    { action: 's3:GetObject', resource: s3(source) },
  ],
}
const addRequest = (who, operation, needs, expect, note) => {
  const action = `${operation} (${[...new Set(needs.map((n) => n.action))].join(', ')})`
  cases.push({ who, action, resource: needs.map((n) => n.resource).join(' <- '), needs, expect, note, context: {} })
}

// Table 11.1, one row per permission, for the owner, another signed-in user and a visitor.
const table111 = [
  ['s3:GetObject', s3('public/index/content.json'), [ALLOW, ALLOW, ALLOW], 'public index'],
  ['s3:GetObject', s3(`public/content/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "owner's public original (its owner only)"],
  ['s3:GetObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), [ALLOW, ALLOW, ALLOW], 'public thumbnail'],
  ['s3:GetObject', s3(`public/previews/${OWNER}/cat.jpg`), [ALLOW, ALLOW, ALLOW], 'public preview'],
  ['s3:GetObject', s3(`public/faces/${OWNER}/cat.jpg`), [ALLOW, ALLOW, ALLOW], 'public faces image'],
  ['s3:PutObject', s3(`public/content/${OWNER}/new.jpg`), [ALLOW, DENY, DENY], "upload to owner's public prefix"],
  ['s3:PutObject', s3(`private/content/${OWNER}/new.jpg`), [ALLOW, DENY, DENY], "upload to owner's private prefix"],
  ['s3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "delete owner's public picture"],
  ['s3:DeleteObject', s3(`private/content/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "delete owner's private picture"],
  ['s3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "owner's private picture"],
  ['s3:GetObject', s3(`private/thumbnails/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "owner's private thumbnail"],
  ['s3:GetObject', s3(`private/previews/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "owner's private preview"],
  ['s3:GetObject', s3(`private/faces/${OWNER}/cat.jpg`), [ALLOW, DENY, DENY], "owner's private faces image"],
  ['s3:GetObject', s3(`private/index/${OWNER}/content.json`), [ALLOW, DENY, DENY], "owner's private index"],
  ['s3:GetObject', s3('public/index/content-20261123T140509123Z.json'), [ALLOW, ALLOW, ALLOW], 'a page of the public index'],
  ['s3:GetObject', s3('public/index/content-0.json'), [ALLOW, ALLOW, ALLOW], 'the oldest page of the public index'],
  ['s3:GetObject', s3(`private/index/${OWNER}/content-20261123T140509123Z.json`), [ALLOW, DENY, DENY], "a page of the owner's private index"],
  ['s3:GetObject', s3('public/index/volume1-0.json'), [ALLOW, ALLOW, ALLOW], 'a volume of the public index (the oldest, level 1)'],
  ['s3:GetObject', s3('public/index/volume12-20261123T140509123Z.json'), [ALLOW, ALLOW, ALLOW], 'a volume of the public index (level 12)'],
  ['s3:GetObject', s3(`private/index/${OWNER}/volume1-20261123T140509123Z.json`), [ALLOW, DENY, DENY], "a volume of the owner's private index"],
  ['s3:GetObject', s3(`private/index/${OWNER}/volume2-0.json`), [ALLOW, DENY, DENY], "the oldest level-2 volume of the owner's private index"],
  ['dynamodb:UpdateItem', TABLE_ARN, [ALLOW, DENY, DENY], "edit title+description of owner's item", upd(OWNER, EDIT)],
]
for (const [action, resource, expects, note, context] of table111) {
  ;['owner', 'other', 'visitor'].forEach((who, i) => add(who, action, resource, expects[i], `11.1: ${note}`, context))
}

// Signed-in users: everything else is denied.
add('owner', 's3:AbortMultipartUpload', s3(`public/content/${OWNER}/big.jpg`), ALLOW, 'abort own multipart upload')
add('owner', 's3:PutObject', s3('public/index/content.json'), DENY, 'user overwrites the public index')
add('owner', 's3:PutObject', s3(`private/index/${OWNER}/content.json`), DENY, 'user writes own private index')
add('owner', 's3:PutObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), DENY, 'user forges a thumbnail')
add('owner', 's3:PutObject', s3(`public/faces/${OWNER}/cat.jpg`), DENY, 'user forges a faces image')
add('owner', 's3:PutObject', s3(`private/previews/${OWNER}/cat.jpg`), DENY, 'user forges a preview')
add('owner', 's3:DeleteObject', s3(`public/previews/${OWNER}/cat.jpg`), DENY, 'user deletes a preview')
add('owner', 's3:GetObject', s3(`private/previews/${OTHER}/cat.jpg`), DENY, "another user's private preview")
add('owner', 's3:DeleteObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), DENY, 'user deletes a derived file')
add('owner', 's3:PutObject', s3(`public/content/${OTHER}/evil.jpg`), DENY, "upload into another user's prefix")
add('owner', 's3:PutObject', s3(`public/content/${OWNER}x/evil.jpg`), DENY, 'prefix lookalike (sub + suffix)')
add('owner', 's3:GetObject', s3(`private/content/${OTHER}/${OWNER}/x.jpg`), DENY, 'own sub nested under another prefix')
add('owner', 's3:GetObject', s3(`private/index/${OTHER}/content.json`), DENY, "another user's private index")
add('owner', 's3:PutObject', s3('tmp/20260101000000-x.jpg'), DENY, 'user writes tmp/')
add('owner', 's3:GetObject', s3('tmp/20260101000000-x.jpg'), DENY, 'user reads tmp/ (only via presigned URL)')
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'user lists the bucket', { 's3:prefix': 'private/' })
add('owner', 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'upload over plain HTTP', {
  'aws:SecureTransport': 'false',
})
add('owner', 's3:PutBucketPolicy', BUCKET_ARN, DENY, 'user changes the bucket policy')
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'user sets isPublic', upd(OWNER, [...EDIT, 'isPublic']))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'user sets thumbnailKey', upd(OWNER, ['identityId', 'objectKey', 'thumbnailKey']))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'user sets faceCount', upd(OWNER, ['identityId', 'objectKey', 'faceCount']))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, DENY, "edit another user's item", upd(OTHER, EDIT))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, "the web client's edit request (ReturnValues NONE)", upd(OWNER, EDIT, { 'dynamodb:ReturnValues': 'NONE' }))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, 'edit title only, ReturnValues UPDATED_NEW', upd(OWNER, ['identityId', 'objectKey', 'title'], { 'dynamodb:ReturnValues': 'UPDATED_NEW' }))
add('owner', 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'edit with ReturnValues ALL_NEW (reads other attrs)', upd(OWNER, EDIT, { 'dynamodb:ReturnValues': 'ALL_NEW' }))
add('owner', 'dynamodb:PutItem', TABLE_ARN, DENY, 'user puts a whole item', upd(OWNER, EDIT))
add('owner', 'dynamodb:DeleteItem', TABLE_ARN, DENY, 'user deletes an item directly', upd(OWNER, EDIT))
add('owner', 'dynamodb:GetItem', TABLE_ARN, DENY, 'user reads the table directly', upd(OWNER, EDIT))
add('owner', 'dynamodb:Query', GSI_ARN, DENY, 'user queries the public GSI')
// Changing visibility (the client's CopyObject, then DeleteObject of the source; CopyObject
// needs s3:GetObject on the source and s3:PutObject on the destination: S3 API reference,
// CopyObject, "Permissions"). Share links read with GetObject (a Range GET, a HEAD).
add('owner', 's3:GetObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'make private: read the copy source')
add('owner', 's3:PutObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'make private: write the copy')
add('owner', 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'make private: delete the source')
add('owner', 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'make public: read the copy source')
add('owner', 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'make public: write the copy')
add('other', 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, "copy another user's private picture")
add('other', 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, "copy into another user's public prefix")
add('other', 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, "move another user's picture away")
add('owner', 's3:PutObject', s3(`private/thumbnails/${OWNER}/cat.jpg`), DENY, 'copy onto a derived key')
// Uploads bounded by the role (s3:PutObject's condition keys, "Actions, resources, and
// condition keys for Amazon S3"): STANDARD storage only, copies only from the person's own
// originals. The copy source as the client sends it keeps the identity's ':' unescaped.
const OWN_UPLOAD = s3(`private/content/${OWNER}/new.jpg`)
const BUCKET = BUCKET_ARN.split(':::')[1]
add('owner', 's3:PutObject', OWN_UPLOAD, ALLOW, 'upload, storage class STANDARD named', { 's3:x-amz-storage-class': 'STANDARD' })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, 'upload as DEEP_ARCHIVE (180-day minimum, unreadable)', { 's3:x-amz-storage-class': 'DEEP_ARCHIVE' })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, 'upload as STANDARD_IA (30-day minimum, retrieval fees)', { 's3:x-amz-storage-class': 'STANDARD_IA' })
add('owner', 's3:PutObject', OWN_UPLOAD, ALLOW, 'copy from own public original', { 's3:x-amz-copy-source': `${BUCKET}/public/content/${OWNER}/cat%20x.jpg` })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, "copy from another person's public original", { 's3:x-amz-copy-source': `${BUCKET}/public/content/${OTHER}/cat.jpg` })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, "copy from another person's public preview", { 's3:x-amz-copy-source': `${BUCKET}/public/previews/${OTHER}/cat.jpg` })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, 'copy from the public index', { 's3:x-amz-copy-source': `${BUCKET}/public/index/content.json` })
add('owner', 's3:PutObject', OWN_UPLOAD, DENY, 'copy from own original with the identity\'s colon escaped', { 's3:x-amz-copy-source': `${BUCKET}/public/content/${OWNER.replace(':', '%3A')}/cat.jpg` })
add('visitor', 's3:GetObject', s3(`public/previews/${OWNER}/cat.jpg`), ALLOW, 'share link, signed out: a public preview (HEAD)')
add('visitor', 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, 'share link, signed out: a private original')
add('owner', 'dynamodb:Query', OWNER_GSI_ARN, DENY, 'user queries the by-owner GSI')
add('owner', 's3:PutObject', s3(`private/index/${OWNER}/content-0.json`), DENY, 'user writes a page of own private index')
add('owner', 's3:PutObject', s3('public/index/content-0.json'), DENY, 'user writes a page of the public index')
add('owner', 's3:GetObject', s3(`private/index/${OTHER}/content-0.json`), DENY, "a page of another user's private index")
add('visitor', 's3:PutObject', s3(`public/content/${VISITOR}/x.jpg`), DENY, 'visitor uploads under own identity')
// Index volumes (volume{level}-{after}.json beside the head): read like pages, written by the
// index publishers only.
add('owner', 's3:PutObject', s3('public/index/volume1-0.json'), DENY, 'user writes a volume of the public index')
add('owner', 's3:PutObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, 'user writes a volume of own private index')
add('owner', 's3:DeleteObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, 'user deletes a volume of own private index')
add('owner', 's3:GetObject', s3(`private/index/${OTHER}/volume1-0.json`), DENY, "a volume of another user's private index")
add('owner', 's3:GetObject', s3(`private/index/${OTHER}/volume3-20261123T140509123Z.json`), DENY, "a level-3 volume of another user's private index")
add('owner', 's3:GetObject', s3('public/index/volumes.json'), DENY, 'a volume lookalike (no level-range dash)')
add('owner', 's3:GetObject', s3(`private/index/${OWNER}/volume1-0.txt`), DENY, 'a volume that is not .json')
add('visitor', 's3:PutObject', s3('public/index/volume1-0.json'), DENY, 'visitor writes a volume of the public index')
add('visitor', 's3:DeleteObject', s3('public/index/volume1-0.json'), DENY, 'visitor deletes a volume of the public index')
add('visitor', 's3:GetObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, "visitor reads a volume of a private index")
add('visitor', 's3:GetObject', s3(`private/index/${VISITOR}/volume1-0.json`), DENY, 'visitor reads a volume under own identity')
add('visitor', 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'visitor edits an item of own identity', upd(VISITOR, EDIT))
add('visitor', 's3:GetObject', s3('tmp/20260101000000-x.jpg'), DENY, 'visitor reads tmp/')
add('visitor', 's3:ListBucket', BUCKET_ARN, DENY, 'visitor lists the bucket', { 's3:prefix': 'public/' })

// The attributes each function's UpdateItem names (key, update and condition
// expressions): dynamodb:Attributes as DynamoDB computes it for the request.
const KEY = ['identityId', 'objectKey']
const CONTENT = [...KEY, 'thumbnailKey', 'previewKey', 'animated', 'isPublic', 'title', 'description', 'uploadDate',
  'uploadDay', 'contentType', 'takenAt', 'camera', 'size', 'width', 'height', 'sequencer']
const FACES = ['facesKey', 'faceCount', 'faces', 'facesSequencer']
// A delete: SET sequencer, deleted, expiresAt, deletedUploadDate (from uploadDate); REMOVE every other attribute.
const TOMBSTONE = [...CONTENT, 'refused', 'deleted', 'expiresAt', 'deletedUploadDate', ...FACES]
const NONE = { 'dynamodb:ReturnValues': 'NONE' }
const item = (attributes, extra = {}) => ({ 'dynamodb:LeadingKeys': [OWNER], 'dynamodb:Attributes': attributes, ...extra })
// Private indexes: identity ids are "<region>:<uuid>".
const OTHER_REGION = 'eu-west-1:11111111-1111-4111-8111-111111111111'

// content-updated
const cu = 'content-updated'
add(cu, 's3:GetObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'read public upload')
add(cu, 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'read private upload')
add(cu, 's3:GetObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), ALLOW, "head a thumbnail (its event's sequencer)")
add(cu, 's3:GetObject', s3(`private/previews/${OWNER}/cat.jpg`), ALLOW, 'head a preview (If-Match delete needs GetObject)')
add(cu, 's3:GetObject', s3(`public/faces/${OWNER}/cat.jpg`), ALLOW, 'head a faces copy (If-Match delete needs GetObject)')
add(cu, 's3:GetObject', s3(`private/faces/${OWNER}/cat.jpg`), ALLOW, 'head a private faces copy')
add(cu, 's3:ListBucket', BUCKET_ARN, ALLOW, 'ListBucket: a missing key is 404, not 403', { 's3:prefix': `public/content/${OWNER}/cat.jpg` })
add(cu, 's3:ListBucket', BUCKET_ARN, ALLOW, 'ListBucket without prefix (no s3:prefix condition)')
add(cu, 's3:PutObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), ALLOW, 'write public thumbnail')
add(cu, 's3:PutObject', s3(`private/thumbnails/${OWNER}/cat.jpg`), ALLOW, 'write private thumbnail')
add(cu, 's3:PutObject', s3(`public/previews/${OWNER}/cat.jpg`), ALLOW, 'write public preview')
add(cu, 's3:PutObject', s3(`private/previews/${OWNER}/cat.jpg`), ALLOW, 'write private preview')
add(cu, 's3:DeleteObject', s3(`private/thumbnails/${OWNER}/cat.jpg`), ALLOW, 'delete thumbnail')
add(cu, 's3:DeleteObject', s3(`public/previews/${OWNER}/cat.jpg`), ALLOW, 'delete preview')
add(cu, 's3:DeleteObject', s3(`public/faces/${OWNER}/cat.jpg`), ALLOW, 'delete faces image')
add(cu, 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'write under content/ (would loop)')
add(cu, 's3:PutObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, 'write under content/ (would loop)')
add(cu, 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'delete a refused upload (If-Match on its ETag)')
add(cu, 's3:DeleteObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'delete a refused private upload')
add(cu, 's3:DeleteObject', s3(`private/index/${OWNER}/content.json`), DENY, 'delete a private index')
add(cu, 's3:ListBucket', BUCKET_ARN, ALLOW, "list an owner's originals for the storage quota", { 's3:prefix': `private/content/${OWNER}/` })
add(cu, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, 'record why an upload was not kept', item([...CONTENT, 'refused', 'expiresAt'], NONE))
add(cu, 's3:PutObject', s3(`public/faces/${OWNER}/cat.jpg`), DENY, "write faces/ (face-detection's)")
add(cu, 's3:PutObject', s3('public/index/content.json'), DENY, 'write the public index')
add(cu, 's3:GetObject', s3(`private/index/${OWNER}/content.json`), DENY, 'read a private index')
add(cu, 's3:GetObject', s3('tmp/20260101000000-x.jpg'), DENY, 'read tmp/')
add(cu, 's3:PutObject', s3('public/index/volume1-0.json'), DENY, 'write a public index volume')
add(cu, 's3:GetObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, 'read a private index volume')
add(cu, 'dynamodb:GetItem', TABLE_ARN, ALLOW, "read an item's sequencer (projection)", item([...KEY, 'sequencer'], { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }))
add(cu, 'dynamodb:GetItem', TABLE_ARN, ALLOW, "read a moved picture's old item's date (projection)", item([...KEY, 'deleted', 'uploadDate', 'deletedUploadDate'], { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }))
add(cu, 'dynamodb:GetItem', TABLE_ARN, DENY, 'get a whole item (Select ALL_ATTRIBUTES)', item(KEY, { 'dynamodb:Select': 'ALL_ATTRIBUTES' }))
add(cu, 'dynamodb:GetItem', TABLE_ARN, DENY, 'get item projecting title', item([...KEY, 'sequencer', 'title'], { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }))
add(cu, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, 'write the content attributes (ReturnValues NONE)', item(CONTENT, NONE))
add(cu, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, 'write a tombstone, REMOVE the rest (faces incl.)', item(TOMBSTONE, NONE))
add(cu, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update an attribute outside the list', item([...CONTENT, 'owner'], NONE))
add(cu, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update with ReturnValues ALL_OLD (reads the item)', item(CONTENT, { 'dynamodb:ReturnValues': 'ALL_OLD' }))
add(cu, 'dynamodb:PutItem', TABLE_ARN, DENY, 'put item (replaces face-detection\'s attributes)', item(CONTENT))
add(cu, 'dynamodb:DeleteItem', TABLE_ARN, DENY, 'delete item (deletes keep a tombstone)', item(KEY))
add(cu, 'dynamodb:Query', TABLE_ARN, DENY, 'query')
add(cu, 'dynamodb:Scan', TABLE_ARN, DENY, 'scan')
add(cu, 'dynamodb:DeleteTable', TABLE_ARN, DENY, 'delete the table')
add(cu, 'sqs:ReceiveMessage', QUEUE.contentUpdated, ALLOW, 'receive from own queue')
add(cu, 'sqs:DeleteMessage', QUEUE.contentUpdated, ALLOW, 'delete from own queue')
add(cu, 'sqs:ReceiveMessage', QUEUE.faceDetection, DENY, "receive from face-detection's queue")
add(cu, 'logs:PutLogEvents', LOGS('content-updated'), ALLOW, 'write own logs')
add(cu, 'logs:PutLogEvents', LOGS('face-detection'), DENY, "write another function's logs")

// face-detection
const fd = 'face-detection'
add(fd, 's3:GetObject', s3(`public/content/${OWNER}/cat.jpg`), ALLOW, 'read public upload')
add(fd, 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'read private upload')
add(fd, 's3:GetObject', s3(`public/faces/${OWNER}/cat.jpg`), ALLOW, 'head a faces copy (its sequencer)')
add(fd, 's3:GetObject', s3(`private/faces/${OWNER}/cat.jpg`), ALLOW, 'head a private faces copy')
add(fd, 's3:GetObject', s3('tmp/20260101000000-x.jpg'), ALLOW, 'read tmp/ (presigned URL)')
add(fd, 's3:ListBucket', BUCKET_ARN, ALLOW, 'ListBucket: a missing key is 404, not 403', { 's3:prefix': `private/content/${OWNER}/cat.jpg` })
add(fd, 's3:PutObject', s3(`public/faces/${OWNER}/cat.jpg`), ALLOW, 'write public faces image')
add(fd, 's3:PutObject', s3(`private/faces/${OWNER}/cat.jpg`), ALLOW, 'write private faces image')
add(fd, 's3:PutObject', s3('tmp/20260101000000-x.jpg'), ALLOW, 'write tmp/ (direct call)')
add(fd, 's3:DeleteObject', s3(`public/faces/${OWNER}/cat.jpg`), ALLOW, 'delete the faces copy of an undecodable upload')
add(fd, 's3:DeleteObject', s3(`private/faces/${OWNER}/cat.jpg`), ALLOW, 'delete a private faces copy')
add(fd, 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'write under content/ (would loop)')
add(fd, 's3:PutObject', s3(`private/thumbnails/${OWNER}/cat.jpg`), DENY, "write thumbnails/ (content-updated's)")
add(fd, 's3:PutObject', s3(`public/previews/${OWNER}/cat.jpg`), DENY, "write previews/ (content-updated's)")
add(fd, 's3:PutObject', s3('public/index/content.json'), DENY, 'write the public index')
add(fd, 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'delete an original')
add(fd, 's3:DeleteObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), DENY, 'delete a thumbnail')
add(fd, 's3:DeleteObject', s3('tmp/20260101000000-x.jpg'), DENY, "delete tmp/ (purge-bucket's)")
add(fd, 's3:GetObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), DENY, 'read thumbnails/')
add(fd, 's3:GetObject', s3(`private/index/${OWNER}/content.json`), DENY, 'read a private index')
add(fd, 's3:PutObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, 'write a private index volume')
add(fd, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, 'update face attributes (condition on sequencer and refused)', item([...KEY, ...FACES, 'sequencer', 'refused'], NONE))
add(fd, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update thumbnailKey', item([...KEY, ...FACES, 'thumbnailKey'], NONE))
add(fd, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update isPublic', item([...KEY, 'isPublic'], NONE))
add(fd, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update title', item([...KEY, 'faceCount', 'title'], NONE))
add(fd, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update with ReturnValues ALL_NEW (reads the item)', item([...KEY, ...FACES], { 'dynamodb:ReturnValues': 'ALL_NEW' }))
add(fd, 'dynamodb:GetItem', TABLE_ARN, DENY, 'get item', item([...KEY, 'sequencer'], { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }))
add(fd, 'dynamodb:PutItem', TABLE_ARN, DENY, 'put a whole item (would clobber)', item([...KEY, ...FACES]))
add(fd, 'dynamodb:DeleteItem', TABLE_ARN, DENY, 'delete item', item(KEY))
add(fd, 'sqs:ReceiveMessage', QUEUE.faceDetection, ALLOW, 'receive from own queue')
add(fd, 'sqs:ReceiveMessage', QUEUE.contentUpdated, DENY, "receive from content-updated's queue")

// update-content-index
const ui = 'update-content-index'
add(ui, 'dynamodb:Query', TABLE_ARN, ALLOW, "query an identity's items")
add(ui, 'dynamodb:Query', GSI_ARN, ALLOW, 'query the uploadDay GSI')
add(ui, 'dynamodb:Query', OWNER_GSI_ARN, ALLOW, 'query the by-owner GSI (one private page per query)')
add(ui, 'dynamodb:Scan', TABLE_ARN, DENY, 'scan')
add(ui, 'dynamodb:GetRecords', STREAM_ARN, ALLOW, 'read the stream')
add(ui, 'dynamodb:GetShardIterator', STREAM_ARN, ALLOW, 'stream shard iterator')
add(ui, 'dynamodb:DescribeStream', STREAM_ARN, ALLOW, 'describe the stream')
add(ui, 'dynamodb:ListStreams', '*', ALLOW, 'list streams (wildcard-only action)')
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'write items')
// An owner's oversized title and description written back cut, conditioned on the stored
// values (key, SET and condition name title and description only).
const TEXTS = [...KEY, 'title', 'description']
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, "cut an owner's oversized title and description (ReturnValues NONE)", item(TEXTS, NONE))
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, ALLOW, "cut an owner's oversized title only", item([...KEY, 'title'], NONE))
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'cut with ReturnValues ALL_OLD (reads the item)', item(TEXTS, { 'dynamodb:ReturnValues': 'ALL_OLD' }))
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update isPublic with the texts', item([...TEXTS, 'isPublic'], NONE))
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'update thumbnailKey', item([...KEY, 'thumbnailKey'], NONE))
add(ui, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'condition on sequencer', item([...TEXTS, 'sequencer'], NONE))
add(ui, 'dynamodb:PutItem', TABLE_ARN, DENY, 'put items')
add(ui, 'dynamodb:PutItem', TABLE_ARN, ALLOW, 'record a public upload day', { 'dynamodb:LeadingKeys': ['#public-days'] })
add(ui, 'dynamodb:PutItem', TABLE_ARN, DENY, "put a user's item", { 'dynamodb:LeadingKeys': [OWNER] })
add(ui, 'dynamodb:DeleteItem', TABLE_ARN, ALLOW, 'remove the marker of a day with no public item', { 'dynamodb:LeadingKeys': ['#public-days'] })
add(ui, 'dynamodb:DeleteItem', TABLE_ARN, DENY, "delete a user's item", { 'dynamodb:LeadingKeys': [OWNER] })
add(ui, 'dynamodb:DeleteItem', TABLE_ARN, DENY, 'delete items (no leading key)')
add(ui, 'dynamodb:GetItem', TABLE_ARN, DENY, 'single-item reads: not used (BatchGetItem only)')
add(ui, 'dynamodb:BatchGetItem', TABLE_ARN, ALLOW, 'read the changed items consistently')
add(ui, 's3:GetObject', s3('public/index/content.json'), ALLOW, 'read public index (ETag)')
add(ui, 's3:PutObject', s3('public/index/content.json'), ALLOW, 'write public index (If-Match)')
add(ui, 's3:GetObject', s3(`private/index/${OWNER}/content.json`), ALLOW, 'read a private index')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/content.json`), ALLOW, 'write a private index')
add(ui, 's3:PutObject', s3(`private/index/${OTHER}/content.json`), ALLOW, "write another identity's private index")
add(ui, 's3:ListBucket', BUCKET_ARN, ALLOW, 'ListBucket: a missing index is 404, not 403', { 's3:prefix': `private/index/${OWNER}/content.json` })
add(ui, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/content.json`), DENY, 'write a private index two segments deep')
add(ui, 's3:GetObject', s3(`private/index/${OTHER}/${OWNER}/content.json`), DENY, 'read a private index two segments deep')
add(ui, 's3:PutObject', s3(`private/index/x/${OWNER}/content.json`), DENY, 'two segments, the second an identity id')
add(ui, 's3:PutObject', s3('private/index/us-east-1:1111/111-1111-4111-8111-111111111111/content.json'), DENY, '"/" in a "?" position (two segments)')
add(ui, 's3:PutObject', s3(`private/index/${OTHER_REGION}/content.json`), DENY, "an identity id of another region's pool")
add(ui, 's3:PutObject', s3('private/index/us-east-1:not-a-uuid/content.json'), DENY, 'an identity segment not shaped region:uuid')
add(ui, 's3:PutObject', s3('private/index//content.json'), DENY, 'an empty identity segment')
add(ui, 's3:PutObject', s3('public/index/other.json'), DENY, 'write another file under index/')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/other.json`), DENY, 'write another file under a private index')
add(ui, 's3:PutObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, 'write under content/')
add(ui, 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, 'read pictures')
add(ui, 's3:DeleteObject', s3('public/index/content.json'), DENY, 'delete the public index')
add(ui, 's3:GetObject', s3('public/index/content-20261123T140509123Z.json'), ALLOW, 'read a public index page (ETag)')
add(ui, 's3:PutObject', s3('public/index/content-20261123T140509123Z.json'), ALLOW, 'write a public index page (If-Match)')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/content-20261123T140509123Z.json`), ALLOW, 'write a private index page')
add(ui, 's3:GetObject', s3(`private/index/${OWNER}/content-0.json`), ALLOW, 'read the oldest private index page')
add(ui, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/content-0.json`), DENY, 'a private index page two segments deep')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/content-x/y.json`), DENY, 'a page name with a further segment')
add(ui, 's3:PutObject', s3('private/index/us-east-1:not-a-uuid/content-0.json'), DENY, 'a page under an identity segment not shaped region:uuid')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/contents-0.json`), DENY, 'a page lookalike (content- is the prefix)')
add(ui, 's3:PutObject', s3('public/index/content-0.txt'), DENY, 'a page that is not .json')
add(ui, 's3:GetObject', s3('public/index/volume1-0.json'), ALLOW, 'read a public index volume (ETag)')
add(ui, 's3:PutObject', s3('public/index/volume1-20261123T140509123Z.json'), ALLOW, 'write a public index volume (If-Match)')
add(ui, 's3:PutObject', s3('public/index/volume10-0.json'), ALLOW, 'write a level-10 public index volume')
add(ui, 's3:GetObject', s3(`private/index/${OWNER}/volume2-0.json`), ALLOW, 'read a private index volume')
add(ui, 's3:PutObject', s3(`private/index/${OTHER}/volume1-20261123T140509123Z.json`), ALLOW, 'write a private index volume')
add(ui, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/volume1-0.json`), DENY, 'a private index volume two segments deep')
add(ui, 's3:PutObject', s3(`private/index/${OWNER}/volume1-x/y.json`), DENY, 'a volume name with a further segment')
add(ui, 's3:PutObject', s3(`private/index/${OTHER_REGION}/volume1-0.json`), DENY, "a volume under another region's identity id")
add(ui, 's3:PutObject', s3('public/index/volume1-0.txt'), DENY, 'a volume that is not .json')
add(ui, 's3:DeleteObject', s3('public/index/volume1-0.json'), DENY, 'delete a public index volume (volumes are rewritten, never deleted)')
add(ui, 'sqs:SendMessage', QUEUE.indexFailures, ALLOW, 'on-failure destination')
add(ui, 'sqs:SendMessage', QUEUE.contentUpdated, DENY, 'send to a content queue')

// purge-bucket: keeps exactly its tmp/-only listing and deletes.
const pb = 'purge-bucket'
add(pb, 's3:ListBucket', BUCKET_ARN, ALLOW, 'list tmp/', { 's3:prefix': 'tmp/' })
add(pb, 's3:ListBucket', BUCKET_ARN, DENY, 'list public/', { 's3:prefix': 'public/' })
add(pb, 's3:ListBucket', BUCKET_ARN, DENY, 'list a tmp lookalike prefix', { 's3:prefix': 'tmpx/' })
add(pb, 's3:ListBucket', BUCKET_ARN, DENY, 'list the whole bucket (no prefix)')
add(pb, 's3:DeleteObject', s3('tmp/20260101000000-x.jpg'), ALLOW, 'delete a tmp/ object')
add(pb, 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'delete outside tmp/')
add(pb, 's3:DeleteObject', s3('public/index/content.json'), DENY, 'delete the public index')
add(pb, 's3:DeleteObject', s3('public/index/volume1-0.json'), DENY, 'delete a public index volume')
add(pb, 's3:DeleteObject', s3('tmpx/20260101000000-x.jpg'), DENY, 'delete a tmp lookalike prefix')
add(pb, 's3:GetObject', s3('tmp/20260101000000-x.jpg'), DENY, 'read tmp/')
add(pb, 's3:PutObject', s3('tmp/20260101000000-x.jpg'), DENY, 'write tmp/')
add(pb, 'dynamodb:DeleteItem', TABLE_ARN, DENY, 'touch the table')
add(pb, 'logs:PutLogEvents', LOGS('purge-bucket'), ALLOW, 'write own logs')

// repair: reads the bucket and the table, sends lost events to the two queues, rebuilds
// the indexes; it writes no picture, derived object or item itself.
const rp = 'repair'
const REPAIR_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:media-sharing-repair`
add(rp, 's3:ListBucket', BUCKET_ARN, ALLOW, 'list the content and derived prefixes', { 's3:prefix': 'public/content/' })
add(rp, 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), ALLOW, 'head an upload')
add(rp, 's3:GetObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), ALLOW, 'head a thumbnail (its sequencer)')
add(rp, 's3:GetObject', s3(`private/faces/${OWNER}/cat.jpg`), ALLOW, 'head a faces copy (its sequencer)')
add(rp, 's3:GetObject', s3(`private/previews/${OWNER}/cat.jpg`), ALLOW, 'head a preview (its sequencer)')
add(rp, 's3:PutObject', s3(`public/previews/${OWNER}/cat.jpg`), DENY, 'write a preview itself')
add(rp, 's3:PutObject', s3(`public/thumbnails/${OWNER}/cat.jpg`), DENY, 'write a thumbnail itself')
add(rp, 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'write under content/')
add(rp, 's3:DeleteObject', s3(`public/faces/${OWNER}/cat.jpg`), DENY, 'delete a derived object itself')
add(rp, 's3:DeleteObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, "delete a user's picture")
add(rp, 's3:PutObject', s3('public/index/content.json'), ALLOW, 'rebuild the public index')
add(rp, 's3:PutObject', s3(`private/index/${OWNER}/content.json`), ALLOW, 'rebuild a private index')
add(rp, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/content.json`), DENY, 'a private index two segments deep')
add(rp, 's3:PutObject', s3('public/index/content-0.json'), ALLOW, 'rebuild a page of the public index')
add(rp, 's3:PutObject', s3(`private/index/${OWNER}/content-20261123T140509123Z.json`), ALLOW, 'rebuild a page of a private index')
add(rp, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/content-0.json`), DENY, 'a private index page two segments deep')
add(rp, 's3:GetObject', s3('public/index/volume1-0.json'), ALLOW, 'read a public index volume (rebuild)')
add(rp, 's3:PutObject', s3('public/index/volume2-20261123T140509123Z.json'), ALLOW, 'rebuild a volume of the public index')
add(rp, 's3:GetObject', s3(`private/index/${OWNER}/volume1-0.json`), ALLOW, 'read a private index volume (rebuild)')
add(rp, 's3:PutObject', s3(`private/index/${OWNER}/volume1-20261123T140509123Z.json`), ALLOW, 'rebuild a volume of a private index')
add(rp, 's3:PutObject', s3(`private/index/${OTHER}/${OWNER}/volume1-0.json`), DENY, 'a private index volume two segments deep')
add(rp, 's3:DeleteObject', s3(`private/index/${OWNER}/volume1-0.json`), DENY, 'delete a private index volume')
add(rp, 'dynamodb:Query', OWNER_GSI_ARN, ALLOW, 'query the by-owner GSI (private pages)')
add(rp, 's3:GetObject', s3('tmp/20260101000000-x.jpg'), DENY, 'read tmp/')
add(rp, 'dynamodb:Scan', TABLE_ARN, ALLOW, 'scan the table a page at a time')
add(rp, 'dynamodb:BatchGetItem', TABLE_ARN, ALLOW, 'read items by key')
add(rp, 'dynamodb:Query', GSI_ARN, ALLOW, 'query the uploadDay GSI (public index)')
add(rp, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'write an item itself', upd(OWNER, ['identityId', 'objectKey', 'thumbnailKey']))
add(rp, 'dynamodb:PutItem', TABLE_ARN, ALLOW, 'record a public upload day', { 'dynamodb:LeadingKeys': ['#public-days'] })
add(rp, 'dynamodb:PutItem', TABLE_ARN, DENY, "put a user's item", { 'dynamodb:LeadingKeys': [OWNER] })
add(rp, 'dynamodb:DeleteItem', TABLE_ARN, DENY, "delete a user's item", { 'dynamodb:LeadingKeys': [OWNER] })
add(rp, 'sqs:SendMessage', QUEUE.contentUpdated, ALLOW, "send a lost event to content-updated's queue")
add(rp, 'sqs:SendMessage', QUEUE.faceDetection, ALLOW, "send a lost event to face-detection's queue")
add(rp, 'sqs:SendMessage', QUEUE.indexFailures, DENY, 'send to the stream on-failure queue')
add(rp, 'lambda:InvokeFunction', REPAIR_ARN, ALLOW, 'hand a long pass over to itself')
add(rp, 'lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:media-sharing-content-updated`, DENY, 'invoke another function')
add(rp, 'logs:PutLogEvents', LOGS('repair'), ALLOW, 'write own logs')

// migrate-user: one legacy user by key, the four attributes the password check needs.
const mu = 'migrate-user'
const LEGACY = ['email', 'passwordHash', 'passwordSalt', 'verified']
const legacy = (attributes, extra = {}) => ({ 'dynamodb:Attributes': attributes, ...extra })
const SPECIFIC = { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }
add(mu, 'dynamodb:GetItem', LEGACY_TABLE_ARN, ALLOW, 'read a legacy user (consistent GetItem, projection)', legacy(LEGACY, SPECIFIC))
add(mu, 'dynamodb:GetItem', LEGACY_TABLE_ARN, DENY, 'get a whole legacy item (Select ALL_ATTRIBUTES)', legacy(['email'], { 'dynamodb:Select': 'ALL_ATTRIBUTES' }))
add(mu, 'dynamodb:GetItem', LEGACY_TABLE_ARN, DENY, "project verifyToken (the old service's secret)", legacy([...LEGACY, 'verifyToken'], SPECIFIC))
add(mu, 'dynamodb:PutItem', LEGACY_TABLE_ARN, DENY, 'write a legacy user', legacy(LEGACY))
add(mu, 'dynamodb:UpdateItem', LEGACY_TABLE_ARN, DENY, 'update a legacy user (e.g. verified)', legacy(['email', 'verified']))
add(mu, 'dynamodb:DeleteItem', LEGACY_TABLE_ARN, DENY, 'delete a legacy user', legacy(['email']))
add(mu, 'dynamodb:Scan', LEGACY_TABLE_ARN, DENY, 'scan the legacy users')
add(mu, 'dynamodb:Query', LEGACY_TABLE_ARN, DENY, 'query the legacy users')
add(mu, 'dynamodb:BatchGetItem', LEGACY_TABLE_ARN, DENY, 'batch-read legacy users', legacy(LEGACY, SPECIFIC))
add(mu, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${LEGACY_TABLE}2`, DENY, 'read another table (name lookalike)', legacy(LEGACY, SPECIFIC))
add(mu, 'dynamodb:GetItem', TABLE_ARN, DENY, 'read the media table', item([...KEY, 'sequencer'], SPECIFIC))
add(mu, 'dynamodb:UpdateItem', TABLE_ARN, DENY, 'write the media table', item(CONTENT, NONE))
add(mu, 's3:GetObject', s3(`private/content/${OWNER}/cat.jpg`), DENY, 'read a private picture')
add(mu, 's3:GetObject', s3('public/index/content.json'), DENY, 'read the public index')
add(mu, 's3:GetObject', s3('public/index/volume1-0.json'), DENY, 'read a public index volume')
add(mu, 's3:PutObject', s3(`public/content/${OWNER}/cat.jpg`), DENY, 'write the bucket')
add(mu, 's3:ListBucket', BUCKET_ARN, DENY, 'list the bucket')
add(mu, 'logs:PutLogEvents', LOGS('migrate-user'), ALLOW, 'write own logs')
add(mu, 'logs:PutLogEvents', LOGS('content-updated'), DENY, "write another function's logs")

// Delete my account: signed-in users list their own originals, and nothing else.
add('owner', 's3:ListBucket', BUCKET_ARN, ALLOW, 'account deletion lists own public originals', { 's3:prefix': `public/content/${OWNER}/` })
add('owner', 's3:ListBucket', BUCKET_ARN, ALLOW, 'account deletion lists own private originals', { 's3:prefix': `private/content/${OWNER}/` })
add('other', 's3:ListBucket', BUCKET_ARN, DENY, "list another user's private originals", { 's3:prefix': `private/content/${OWNER}/` })
add('other', 's3:ListBucket', BUCKET_ARN, DENY, "list another user's public originals", { 's3:prefix': `public/content/${OWNER}/` })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list the whole bucket (no prefix)')
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, "list every user's public originals", { 's3:prefix': 'public/content/' })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list a lookalike prefix (sub + suffix)', { 's3:prefix': `private/content/${OWNER}x/` })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list own prefix without the trailing slash (matches lookalikes)', { 's3:prefix': `private/content/${OWNER}` })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list own private thumbnails (derived files)', { 's3:prefix': `private/thumbnails/${OWNER}/` })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list the private indexes', { 's3:prefix': 'private/index/' })
add('owner', 's3:ListBucket', BUCKET_ARN, DENY, 'list own prefix nested under another', { 's3:prefix': `private/content/${OTHER}/${OWNER}/` })

// Public originals are their owner's only (docs/decisions/originals-owner-only.md): the file may
// carry where it was taken (EXIF/XMP GPS) and its upload metadata (x-amz-meta-data, answered to
// HEAD); everyone else reads the renditions, which the functions re-encode without metadata.
const ORIGINAL = `public/content/${OWNER}/cat.jpg`
for (const who of ['visitor', 'other']) {
  addRequest(who, 'GetObject', [{ action: 's3:GetObject', resource: s3(ORIGINAL) }], DENY, "another person's public original")
  addRequest(who, 'HeadObject', request.HeadObject(ORIGINAL), DENY, "another person's public original: its metadata")
  addRequest(who, 'HeadObject', request.HeadObject(`public/previews/${OWNER}/cat.jpg`), ALLOW, 'a public preview (share link past the index)')
  addRequest(who, 'HeadObject', request.HeadObject(`public/thumbnails/${OWNER}/cat.jpg`), ALLOW, 'a public thumbnail')
}
addRequest('owner', 'GetObject', [{ action: 's3:GetObject', resource: s3(ORIGINAL) }], ALLOW, 'own public original (download)')
addRequest('owner', 'HeadObject', request.HeadObject(ORIGINAL), ALLOW, 'own public original: its metadata')
addRequest('other', 'CopyObject', request.CopyObject(ORIGINAL, `private/content/${OTHER}/cat.jpg`), DENY,
  "copy another person's public original into one's own prefix")
addRequest('other', 'CopyObject', request.CopyObject(ORIGINAL, `public/content/${OTHER}/cat.jpg`), DENY,
  "republish another person's public original as one's own")
addRequest('owner', 'CopyObject', request.CopyObject(ORIGINAL, `private/content/${OWNER}/cat.jpg`), ALLOW, 'make private (copy, then delete)')
addRequest('owner', 'CopyObject', request.CopyObject(`private/content/${OWNER}/cat.jpg`, ORIGINAL), ALLOW, 'make public (copy, then delete)')
addRequest('other', 'CopyObject', request.CopyObject(`public/previews/${OWNER}/cat.jpg`, `public/content/${OTHER}/cat.jpg`), ALLOW,
  "copy a public preview into one's own prefix (readable anyway)")
add('owner', 's3:GetObject', s3(`public/content/${OWNER}x/cat.jpg`), DENY, 'public original under a lookalike prefix (sub + suffix)')
add('owner', 's3:GetObject', s3(`public/content/${OTHER}/${OWNER}/x.jpg`), DENY, 'own sub nested under another public prefix')

// Albums (docs/albums.md): the owner's documents under private/albums/{sub}/, the shared copy
// under public/albums/{sub}/{token}/, written by the browser with the person's credentials.
// Every request the client makes is a case here.
const TOKEN = 'AAECAwQFBgcICQoLDA0ODw'
const ALBUM = `private/albums/${OWNER}/Zm9vYmFyYmF6cXV4cXV1eA.json`
const SHARED = `public/albums/${OWNER}/${TOKEN}`
// A CopyObject as the client sends it: s3:PutObject on the destination, with the copy source
// ("bucket/key", the identity's ':' unescaped) in its request context, and s3:GetObject on the
// source (S3 API reference, CopyObject, "Permissions").
const copyTo = (source, destination, copySource = `${BUCKET}/${source}`) => [
  { action: 's3:PutObject', resource: s3(destination), context: { 's3:x-amz-copy-source': copySource } },
  { action: 's3:GetObject', resource: s3(source) },
]
const albumRows = [
  ['s3:GetObject', s3(ALBUM), [ALLOW, DENY, DENY], 'read an album document (If-Match needs its ETag)'],
  ['s3:PutObject', s3(ALBUM), [ALLOW, DENY, DENY], 'create or change an album document (conditional PUT)'],
  ['s3:DeleteObject', s3(ALBUM), [ALLOW, DENY, DENY], 'delete an album document'],
  ['s3:PutObject', s3(`${SHARED}/album.json`), [ALLOW, DENY, DENY], "write a shared album's document"],
  ['s3:DeleteObject', s3(`${SHARED}/album.json`), [ALLOW, DENY, DENY], "revoke: delete a shared album's document"],
  ['s3:DeleteObject', s3(`${SHARED}/thumbnails/cat.jpg`), [ALLOW, DENY, DENY], 'revoke: delete a shared thumbnail copy'],
  ['s3:DeleteObject', s3(`${SHARED}/previews/cat.jpg`), [ALLOW, DENY, DENY], 'revoke: delete a shared preview copy'],
  ['s3:GetObject', s3(`${SHARED}/album.json`), [ALLOW, ALLOW, ALLOW], "a shared album's document, by its link"],
  ['s3:GetObject', s3(`${SHARED}/thumbnails/cat.jpg`), [ALLOW, ALLOW, ALLOW], "a shared album's thumbnail copy"],
  ['s3:GetObject', s3(`${SHARED}/previews/cat.jpg`), [ALLOW, ALLOW, ALLOW], "a shared album's preview copy"],
  ['s3:GetObject', s3(`${SHARED}/notes.txt`), [DENY, DENY, DENY], 'another object under a shared album (not one of the three shapes)'],
  ['s3:GetObject', s3(`${SHARED}/faces/cat.jpg`), [DENY, DENY, DENY], 'a faces image under a shared album (never copied there)'],
  ['s3:GetObject', s3(`public/albums/${OWNER}/album.json`), [DENY, DENY, DENY], 'an album document without a token segment'],
]
for (const [action, resource, expects, note] of albumRows) {
  ;['owner', 'other', 'visitor'].forEach((who, i) => add(who, action, resource, expects[i], `albums: ${note}`))
}
for (const [who, prefix, expect, note] of [
  ['owner', `private/albums/${OWNER}/`, ALLOW, 'list own album documents'],
  ['owner', `public/albums/${OWNER}/${TOKEN}/`, ALLOW, "revoke: list a shared album's objects"],
  ['owner', `public/albums/${OWNER}/`, ALLOW, 'account deletion: list every shared album copy'],
  ['other', `private/albums/${OWNER}/`, DENY, "list another person's album documents"],
  ['other', `public/albums/${OWNER}/`, DENY, "list another person's shared albums (their tokens)"],
  ['owner', 'public/albums/', DENY, "list every person's shared albums"],
  ['owner', `private/albums/${OWNER}x/`, DENY, 'list an album lookalike prefix (sub + suffix)'],
  ['visitor', 'public/albums/', DENY, "visitor lists the shared albums (the token is the secret)"],
  ['visitor', `public/albums/${OWNER}/`, DENY, "visitor lists a person's shared albums"],
  ['visitor', `public/albums/${OWNER}/${TOKEN}/`, DENY, 'visitor lists a shared album'],
]) add(who, 's3:ListBucket', BUCKET_ARN, expect, `albums: ${note}`, { 's3:prefix': prefix })
add('owner', 's3:PutObject', s3(`private/albums/${OTHER}/x.json`), DENY, "albums: write another person's album document")
add('owner', 's3:DeleteObject', s3(`private/albums/${OTHER}/x.json`), DENY, "albums: delete another person's album document")
add('owner', 's3:GetObject', s3(`private/albums/${OTHER}/x.json`), DENY, "albums: read another person's album document")
add('owner', 's3:PutObject', s3(`public/albums/${OTHER}/${TOKEN}/album.json`), DENY, "albums: write into another person's shared album")
add('owner', 's3:DeleteObject', s3(`public/albums/${OTHER}/${TOKEN}/album.json`), DENY, "albums: revoke another person's link")
add('owner', 's3:PutObject', s3(`public/albums/${OWNER}x/${TOKEN}/album.json`), DENY, 'albums: a shared album under a lookalike prefix (sub + suffix)')
add('owner', 's3:PutObject', s3(`${SHARED}/album.json`), DENY, 'albums: a shared document as DEEP_ARCHIVE', { 's3:x-amz-storage-class': 'DEEP_ARCHIVE' })
add('owner', 's3:PutObject', s3(ALBUM), ALLOW, 'albums: write own album document, STANDARD named', { 's3:x-amz-storage-class': 'STANDARD' })
add('owner', 's3:PutObject', s3(ALBUM), DENY, 'albums: an album document as DEEP_ARCHIVE', { 's3:x-amz-storage-class': 'DEEP_ARCHIVE' })
add('owner', 's3:PutObject', s3(ALBUM), DENY, 'albums: copy own original into the album documents', { 's3:x-amz-copy-source': `${BUCKET}/public/content/${OWNER}/cat.jpg` })
add('owner', 's3:PutObject', s3(ALBUM), DENY, 'albums: copy own preview into the album documents', { 's3:x-amz-copy-source': `${BUCKET}/private/previews/${OWNER}/cat.jpg` })
add('visitor', 's3:PutObject', s3(`public/albums/${VISITOR}/${TOKEN}/album.json`), DENY, 'albums: visitor writes a shared album under own identity')
add('visitor', 's3:PutObject', s3(`private/albums/${VISITOR}/x.json`), DENY, 'albums: visitor writes an album document under own identity')
add('visitor', 's3:DeleteObject', s3(`${SHARED}/album.json`), DENY, 'albums: visitor deletes a shared album')
// The shared copy's renditions: copies of the owner's own thumbnails and previews only.
for (const [source, note] of [
  [`public/thumbnails/${OWNER}/cat.jpg`, 'own public thumbnail'],
  [`public/previews/${OWNER}/cat.jpg`, 'own public preview'],
  [`private/thumbnails/${OWNER}/cat.jpg`, 'own private thumbnail'],
  [`private/previews/${OWNER}/cat%20x.jpg`, 'own private preview (name URL-encoded)'],
]) {
  const kind = source.split('/')[1]
  addRequest('owner', 'CopyObject', copyTo(source, `${SHARED}/${kind}/cat.jpg`), ALLOW, `albums: share a picture: copy ${note}`)
}
for (const [source, note] of [
  [`public/content/${OWNER}/cat.jpg`, 'own public original (may carry a location)'],
  [`private/content/${OWNER}/cat.jpg`, 'own private original'],
  [`public/thumbnails/${OTHER}/cat.jpg`, "another person's public thumbnail"],
  [`public/previews/${OTHER}/cat.jpg`, "another person's public preview"],
  [`private/previews/${OTHER}/cat.jpg`, "another person's private preview"],
  [`public/faces/${OWNER}/cat.jpg`, 'own faces image'],
  [`public/albums/${OTHER}/${TOKEN}/previews/cat.jpg`, "another person's shared preview copy"],
  ['public/index/content.json', 'the public index'],
]) {
  addRequest('owner', 'CopyObject', copyTo(source, `${SHARED}/previews/cat.jpg`), DENY, `albums: copy from ${note}`)
}
addRequest('owner', 'CopyObject', copyTo(`public/previews/${OWNER}/cat.jpg`, `${SHARED}/previews/cat.jpg`, `${BUCKET}/public/previews/${OWNER.replace(':', '%3A')}/cat.jpg`), DENY,
  "albums: copy from own preview with the identity's colon escaped")
addRequest('other', 'CopyObject', copyTo(`private/previews/${OWNER}/cat.jpg`, `public/albums/${OTHER}/${TOKEN}/previews/cat.jpg`), DENY,
  "albums: publish another person's private preview in one's own album")
addRequest('visitor', 'CopyObject', copyTo(`public/previews/${OWNER}/cat.jpg`, `public/albums/${VISITOR}/${TOKEN}/previews/cat.jpg`), DENY,
  'albums: visitor copies a public preview into a shared album')

// --------------------------------------------------------------- evaluation

function simulation(c, need) {
  const persona = PERSONAS[c.who]
  const roleName = resolver.refs[persona.role]
  const context = { 'aws:SecureTransport': 'true', ...c.context, ...need.context }
  if (persona.sub) context[SUB_KEY] = persona.sub
  return {
    identityPolicies: rolePolicies(persona.role),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: need.action.startsWith('s3:') ? bucketPolicy : undefined,
    additionalSettings: { s3: { blockPublicAccess: true } },
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${persona.sub ?? c.who}`,
      action: need.action,
      resource: { resource: need.resource, accountId: ACCOUNT },
      contextVariables: context,
    },
  }
}

const rows = []

describe('IAM permission matrix (iam-simulate on template.yaml)', () => {
  for (const [i, c] of cases.entries()) {
    const label = `${String(i + 1).padStart(3)} ${c.who}: ${c.action} ${resourcesOf(c)} -> ${c.expect} (${c.note})`
    test(label, async () => {
      // A request is allowed when each authorisation it needs is; the first that is not decides.
      let actual = 'Allowed'
      for (const need of c.needs) {
        const sim = simulation(c, need)
        // Validated run: policies, action, resource type and context keys are
        // checked. It drops context keys it does not know for the action, which
        // includes cognito-identity.amazonaws.com:sub ...
        const checked = await runSimulation(sim, {})
        assert.notEqual(checked.resultType, 'error', JSON.stringify(checked.errors))
        const ignored = checked.resultType === 'single' ? checked.result.ignoredContextKeys ?? [] : []
        assert.deepEqual(ignored.filter((k) => k !== SUB_KEY), [], 'unexpected ignored context keys')
        // ... so the decision comes from the same core engine given the full
        // request context (policy variables resolved by the simulator).
        const decided = evaluateWithContext(sim)
        if (!PERSONAS[c.who].sub) {
          assert.equal(decided, checked.overallResult, 'validated and unvalidated engines agree')
        }
        if (decided !== 'Allowed') {
          actual = decided
          break
        }
      }
      rows.push({ n: i + 1, ...c, actual })
      const got = actual === 'Allowed' ? ALLOW : DENY
      assert.equal(got, c.expect, `${c.who} ${c.action} ${c.resource}: ${actual}`)
    })
  }
})

test('the matrix has at least 40 cases and covers every persona', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`)
  for (const who of Object.keys(PERSONAS)) assert.ok(cases.some((c) => c.who === who), who)
})

test('every IAM role in the template is a persona under test', () => {
  const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id)
  const tested = new Set(Object.values(PERSONAS).map((p) => p.role))
  assert.deepEqual(roles.filter((r) => !tested.has(r)), [])
  const stray = Object.entries(resources).filter(([, r]) =>
    ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(r.Type),
  )
  assert.deepEqual(stray.map(([id]) => id), [], 'no IAM policies outside the tested roles')
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Serverless::Function') {
      assert.ok(r.Properties.Role, `${id} uses an explicit role (no SAM-generated policies)`)
      assert.equal(r.Properties.Policies, undefined, `${id} declares no SAM policies`)
    }
  }
})

test('no statement allows "*" actions or "*" resources (ListStreams excepted)', () => {
  for (const persona of new Set(Object.values(PERSONAS).map((p) => p.role))) {
    for (const { name, policy } of rolePolicies(persona)) {
      for (const st of policy.Statement) {
        const actions = [st.Action].flat()
        const res = [st.Resource].flat()
        for (const a of actions) assert.ok(!a.includes('*'), `${name}: wildcard action ${a}`)
        if (res.includes('*')) assert.deepEqual(actions, ['dynamodb:ListStreams'], `${name}: "*" resource`)
        assert.equal(st.NotAction, undefined)
        assert.equal(st.NotResource, undefined)
      }
    }
  }
})

test('s3:ListBucket: unconditioned for the three functions that test existence, tmp/ only for purge-bucket, own content and album prefixes only for signed-in users, none for visitors', () => {
  const grants = {}
  for (const [who, persona] of Object.entries(PERSONAS)) {
    grants[who] = rolePolicies(persona.role)
      .flatMap(({ policy }) => policy.Statement)
      .filter((st) => [st.Action].flat().includes('s3:ListBucket'))
      .map((st) => ({ effect: st.Effect, resource: st.Resource, condition: st.Condition }))
  }
  for (const who of ['content-updated', 'face-detection', 'update-content-index']) {
    assert.deepEqual(grants[who], [{ effect: 'Allow', resource: BUCKET_ARN, condition: undefined }], who)
  }
  assert.deepEqual(grants['purge-bucket'], [
    { effect: 'Allow', resource: BUCKET_ARN, condition: { StringLike: { 's3:prefix': 'tmp/*' } } },
  ])
  for (const who of ['owner', 'other']) {
    assert.deepEqual(grants[who], [{
      effect: 'Allow',
      resource: BUCKET_ARN,
      condition: {
        StringLike: {
          's3:prefix': [`public/content/\${${SUB_KEY}}/*`, `private/content/\${${SUB_KEY}}/*`,
            `private/albums/\${${SUB_KEY}}/*`, `public/albums/\${${SUB_KEY}}/*`],
        },
      },
    }], who)
  }
  assert.deepEqual(grants.visitor, [], 'visitor')
})

test('every statement naming index objects names all three shapes: head, pages and volumes', () => {
  // media-core/src/keys.rs: content.json, content-<after>.json, volume<level>-<after>.json.
  const shapes = ['content.json', 'content-*.json', 'volume*-*.json']
  const folders = new Map()
  for (const persona of new Set(Object.values(PERSONAS).map((p) => p.role))) {
    for (const { name, policy } of rolePolicies(persona)) {
      for (const st of policy.Statement) {
        if (st.Effect !== 'Allow') continue
        for (const r of [st.Resource].flat()) {
          const m = /^(.*\/index\/(?:[^/]*\/)?)([^/]*)$/.exec(r)
          if (!m || !r.startsWith(`${BUCKET_ARN}/`)) continue
          const key = `${name} ${st.Sid} ${m[1]}`
          folders.set(key, [...(folders.get(key) ?? []), m[2]])
        }
      }
    }
  }
  assert.ok(folders.size >= 7, `index grants found: ${[...folders.keys()]}`)
  for (const [where, names] of folders) assert.deepEqual([...names].sort(), [...shapes].sort(), where)
  const text = JSON.stringify(bucketPolicy)
  assert.ok(!text.includes('/index/'), 'the bucket policy names no index object (it only denies plain HTTP)')
})

test('Cognito roles trust only this identity pool, with the matching amr', () => {
  const pool = resolver.refs.IdentityPool
  for (const [kind, amr] of [['authenticated', 'authenticated'], ['unauthenticated', 'unauthenticated']]) {
    const role = logicalIdOfGetAttArn(attachment.Properties.Roles[kind])
    const trust = resolver.resolve(resources[role].Properties.AssumeRolePolicyDocument)
    assert.equal(trust.Statement.length, 1)
    const [st] = trust.Statement
    assert.equal(st.Principal.Federated, 'cognito-identity.amazonaws.com')
    assert.equal(st.Action, 'sts:AssumeRoleWithWebIdentity')
    assert.equal(st.Condition.StringEquals['cognito-identity.amazonaws.com:aud'], pool)
    assert.equal(st.Condition['ForAnyValue:StringLike']['cognito-identity.amazonaws.com:amr'], amr)
  }
})

// The generated table in policy-cases.md, between its markers: `make -C infra docs`
// (POLICY_CASES_WRITE=1) rewrites it; otherwise it must equal the cases evaluated here.
const POLICY_CASES = join(dirname(fileURLToPath(import.meta.url)), '..', 'policy-cases.md')
const BEGIN = '<!-- policy-matrix:begin (generated by `make -C infra docs`) -->\n'
const END = '<!-- policy-matrix:end -->'

test('policy-cases.md lists exactly these policy cases', () => {
  assert.equal(rows.length, cases.length, 'every case was evaluated')
  const md = renderMarkdown()
  if (process.env.POLICY_CASES_WRITE) {
    const text = readFileSync(POLICY_CASES, 'utf8')
    const a = text.indexOf(BEGIN)
    const b = text.indexOf(END)
    assert.ok(a >= 0 && b > a, 'policy-cases.md has the policy-matrix markers')
    writeFileSync(POLICY_CASES, text.slice(0, a + BEGIN.length) + md + text.slice(b))
  }
  const text = readFileSync(POLICY_CASES, 'utf8')
  assert.ok(text.includes(BEGIN + md + END), 'policy-cases.md is stale: run make -C infra docs')
})

after(() => {
  rows.sort((a, b) => a.n - b.n)
  const header = ['#', 'principal', 'action', 'resource', 'expected', 'actual', 'ok', 'case']
  const body = rows.map((r) => [
    String(r.n),
    r.who,
    r.action,
    resourcesOf(r),
    r.expect,
    r.actual,
    (r.actual === 'Allowed' ? ALLOW : DENY) === r.expect ? 'ok' : 'FAIL',
    r.note,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)))
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)]
  const failed = body.filter((r) => r[6] !== 'ok').length
  out.push('', `policy cases: ${body.length} evaluated, ${body.length - failed} as expected, ${failed} not`)
  process.stderr.write(`\n${out.join('\n')}\n`)
})

function contextNote(c) {
  const parts = []
  for (const [k, v] of Object.entries(c.context)) {
    const key = k.replace(/^dynamodb:|^aws:|^s3:/, '')
    parts.push(`${key}=${[v].flat().map((x) => short(String(x))).join(',')}`)
  }
  return parts.join(' ')
}

function renderMarkdown() {
  const esc = (t) => t.replaceAll('|', '\\|')
  const sorted = [...rows].sort((a, b) => a.n - b.n)
  const lines = [
    '| # | principal | action | resource | request context | expected | case |',
    '|---|---|---|---|---|---|---|',
    ...sorted.map((c) => {
      const ctx = esc(contextNote(c))
      return `| ${c.n} | ${c.who} | \`${c.action}\` | \`${esc(resourcesOf(c))}\` | ${ctx} | ${c.expect} | ${esc(c.note)} |`
    }),
  ]
  return `${lines.join('\n')}\n`
}

/** The resources a case names, shortened; a copy's as `destination <- source`. */
function resourcesOf(c) {
  return c.needs.map((n) => short(n.resource)).join(' <- ')
}

function short(raw) {
  const resource = raw.replaceAll(OWNER, '{owner}').replaceAll(OTHER, '{other}').replaceAll(VISITOR, '{visitor}')
  if (resource.startsWith(`${BUCKET_ARN}/`)) return resource.slice(BUCKET_ARN.length + 1)
  if (resource === BUCKET_ARN) return '(bucket)'
  if (resource === TABLE_ARN) return 'table'
  if (resource.startsWith(LEGACY_TABLE_ARN)) return `legacy:${resource.split(':table/')[1]}`
  if (resource === GSI_ARN) return 'table/index/uploadDay-uploadDate-index'
  if (resource === OWNER_GSI_ARN) return 'table/index/identityId-uploadDate-index'
  if (resource === STREAM_ARN) return 'table/stream'
  for (const [name, arn] of Object.entries(QUEUE)) if (resource === arn) return `sqs:${name}`
  if (resource.startsWith('arn:aws:logs:')) return `logs:${resource.split(':log-group:')[1].split(':')[0]}`
  return resource
}
