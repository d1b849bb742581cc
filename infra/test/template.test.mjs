// Static checks of infra/template.yaml against ../shared/CONTRACT.md and
// docs/ARCHITECTURE.md (and the decisions it links): the parts sam validate / cfn-lint cannot
// know about.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ACCOUNT, loadTemplate, parameterErrors, Resolver } from './cfn.mjs'

const template = loadTemplate()
const resolver = new Resolver(template)
const R = template.Resources
const ofType = (type) => Object.entries(R).filter(([, r]) => r.Type === type)

const FUNCTIONS = {
  ContentUpdatedFunction: { binary: 'content-updated', arch: 'x86_64', trigger: 'SQS' },
  FaceDetectionFunction: { binary: 'face-detection', arch: 'x86_64', trigger: 'SQS' },
  UpdateContentIndexFunction: { binary: 'update-content-index', arch: 'arm64', trigger: 'DynamoDB' },
  PurgeBucketFunction: { binary: 'purge-bucket', arch: 'arm64', trigger: 'Schedule' },
  RepairFunction: { binary: 'repair', arch: 'arm64', trigger: 'Schedule' },
  // Called by the user pool (LambdaConfig.UserMigration), not through a SAM event.
  MigrateUserFunction: { binary: 'migrate-user', arch: 'arm64', trigger: 'Cognito' },
}

test('one media bucket: private, encrypted, CORS for the client origin, tmp/ lifecycle', () => {
  // The other bucket holds the web client's files (test/hosting.test.mjs).
  const buckets = ofType('AWS::S3::Bucket').filter(([id]) => id !== 'ClientBucket')
  assert.equal(buckets.length, 1)
  const p = buckets[0][1].Properties
  assert.deepEqual(p.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
  })
  assert.ok(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm)
  const [cors] = p.CorsConfiguration.CorsRules
  assert.deepEqual(cors.AllowedOrigins, [
    { 'Fn::If': ['CorsForDistribution', { 'Fn::Sub': 'https://${ClientDistribution.DomainName}' }, { Ref: 'ClientOrigin' }] },
  ])
  for (const h of ['ETag', 'Last-Modified']) assert.ok(cors.ExposedHeaders.includes(h), h)
  // SSE-C uploads refused (one rule, SSE-S3 by default).
  assert.equal(p.BucketEncryption.ServerSideEncryptionConfiguration.length, 1)
  assert.deepEqual(p.BucketEncryption.ServerSideEncryptionConfiguration[0].BlockedEncryptionTypes, { EncryptionType: ['SSE-C'] })
  const tmp = p.LifecycleConfiguration.Rules.find((r) => r.Prefix === 'tmp/')
  assert.equal(tmp.Status, 'Enabled')
  assert.equal(tmp.ExpirationInDays, 1)
  const name = resolver.refs.MediaBucket
  assert.match(name, /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'valid, lowercase bucket name')
})

test('notifications: ObjectCreated/ObjectRemoved for both content prefixes, to one topic, no overlap', () => {
  const n = R.MediaBucket.Properties.NotificationConfiguration
  assert.equal(n.QueueConfigurations, undefined)
  assert.equal(n.LambdaConfigurations, undefined)
  const configs = n.TopicConfigurations.map((c) => ({
    event: c.Event,
    topic: c.Topic.Ref,
    prefix: c.Filter.S3Key.Rules.find((r) => r.Name === 'prefix').Value,
    suffix: c.Filter.S3Key.Rules.find((r) => r.Name === 'suffix')?.Value,
  }))
  assert.equal(new Set(configs.map((c) => c.topic)).size, 1)
  const seen = configs.map((c) => `${c.event} ${c.prefix}`).sort()
  assert.deepEqual(seen, [
    's3:ObjectCreated:* private/content/',
    's3:ObjectCreated:* public/content/',
    's3:ObjectRemoved:* private/content/',
    's3:ObjectRemoved:* public/content/',
  ])
  // AWS refuses overlapping configurations: same event type and one prefix a prefix of the other.
  for (const a of configs) {
    for (const b of configs) {
      if (a === b || a.event !== b.event) continue
      assert.ok(!a.prefix.startsWith(b.prefix) && !b.prefix.startsWith(a.prefix), `${a.prefix} overlaps ${b.prefix}`)
    }
  }
  const topic = configs[0].topic
  assert.ok(R.MediaBucket.DependsOn.includes?.('ContentEventsTopicPolicy') || R.MediaBucket.DependsOn === 'ContentEventsTopicPolicy')
  // The topic policy names exactly this bucket (derived from the stack id, no cycle).
  const tp = resolver.resolve(R.ContentEventsTopicPolicy.Properties.PolicyDocument)
  assert.equal(tp.Statement[0].Condition.ArnLike['aws:SourceArn'], resolver.atts['MediaBucket.Arn'])
  assert.equal(R.ContentEventsTopicPolicy.Properties.Topics[0].Ref, topic)
})

test('the topic fans out to one queue per S3-triggered function, each with a DLQ', () => {
  const subs = ofType('AWS::SNS::Subscription').map(([, s]) => s.Properties).filter((s) => s.Protocol === 'sqs')
  assert.ok(subs.every((s) => s.TopicArn.Ref === 'ContentEventsTopic'))
  const queues = subs.map((s) => s.Endpoint['Fn::GetAtt'][0]).sort()
  assert.deepEqual(queues, ['ContentUpdatedQueue', 'FaceDetectionQueue'])
  for (const q of queues) {
    const p = R[q].Properties
    assert.ok(p.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0].endsWith('DLQ'))
    // docs/decisions/throttling.md: enough receives that throttling alone never dead-letters.
    assert.ok(p.RedrivePolicy.maxReceiveCount >= 10, `${q} maxReceiveCount`)
    assert.equal(p.SqsManagedSseEnabled, true)
  }
  const qp = resolver.resolve(R.ContentQueuesPolicy.Properties.PolicyDocument)
  assert.equal(qp.Statement[0].Condition.ArnEquals['aws:SourceArn'], resolver.refs.ContentEventsTopic)
  for (const [id, fn] of [['ContentUpdatedFunction', 'ContentUpdatedQueue'], ['FaceDetectionFunction', 'FaceDetectionQueue']]) {
    const ev = R[id].Properties.Events.ContentEvents
    assert.equal(ev.Type, 'SQS')
    assert.equal(ev.Properties.Queue['Fn::GetAtt'][0], fn)
    assert.deepEqual(ev.Properties.FunctionResponseTypes, ['ReportBatchItemFailures'])
    // Visibility timeout at least 6 x the function timeout (AWS guidance) unless the
    // QueueRetrySeconds parameter (0 by default, a few seconds on the local stack) is set.
    const [condition, local, aws] = R[fn].Properties.VisibilityTimeout['Fn::If']
    assert.equal(condition, 'HasQueueRetrySeconds')
    assert.deepEqual(local, { Ref: 'QueueRetrySeconds' })
    assert.equal(template.Parameters.QueueRetrySeconds.Default, 0)
    assert.ok(aws >= 6 * R[id].Properties.Timeout, `${fn} visibility`)
  }
})

test('table: keys, stream and the uploadDay GSI as the contract says', () => {
  const p = R.ContentTable.Properties
  assert.deepEqual(p.KeySchema, [
    { AttributeName: 'identityId', KeyType: 'HASH' },
    { AttributeName: 'objectKey', KeyType: 'RANGE' },
  ])
  const types = Object.fromEntries(p.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]))
  assert.deepEqual(types, { identityId: 'S', objectKey: 'S', uploadDay: 'S', uploadDate: 'S' })
  assert.equal(p.StreamSpecification.StreamViewType, 'NEW_AND_OLD_IMAGES')
  // Tombstones of deleted uploads expire through TTL on expiresAt (epoch seconds).
  assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true })
  assert.deepEqual(p.GlobalSecondaryIndexes, [{
    IndexName: 'uploadDay-uploadDate-index',
    KeySchema: [{ AttributeName: 'uploadDay', KeyType: 'HASH' }, { AttributeName: 'uploadDate', KeyType: 'RANGE' }],
    Projection: { ProjectionType: 'ALL' },
  }, {
    // One Query per private index page; candidates only (read again consistently).
    IndexName: 'identityId-uploadDate-index',
    KeySchema: [{ AttributeName: 'identityId', KeyType: 'HASH' }, { AttributeName: 'uploadDate', KeyType: 'RANGE' }],
    Projection: { ProjectionType: 'KEYS_ONLY' },
  }])
})

test('stream source: batch item failures, bisect, bounded retries, on-failure queue', () => {
  const ev = R.UpdateContentIndexFunction.Properties.Events.TableStream
  assert.equal(ev.Type, 'DynamoDB')
  assert.deepEqual(ev.Properties.Stream, { 'Fn::GetAtt': ['ContentTable', 'StreamArn'] })
  assert.deepEqual(ev.Properties.FunctionResponseTypes, ['ReportBatchItemFailures'])
  assert.equal(ev.Properties.BisectBatchOnFunctionError, true)
  assert.ok(ev.Properties.MaximumRetryAttempts >= 0 && ev.Properties.MaximumRetryAttempts <= 10)
  assert.ok(ev.Properties.MaximumRecordAgeInSeconds > 0)
  assert.equal(ev.Properties.DestinationConfig.OnFailure.Type, 'SQS')
  assert.deepEqual(ev.Properties.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': ['IndexUpdateFailuresQueue', 'Arn'] })
})

// The batching windows are set from docs/cost.md ("Latency and the batching windows"): the
// stream's coalesces an upload's two table writes into one index rebuild, a queue's only waits
// at the expected rates. Parameters, so a deployment or a local run can choose otherwise.
test('batching windows: parameters defaulting to 0 s (queues) and 2 s (stream), used by every event source', () => {
  assert.equal(template.Parameters.QueueBatchingWindowSeconds.Default, 0)
  assert.equal(template.Parameters.StreamBatchingWindowSeconds.Default, 2)
  for (const id of ['ContentUpdatedFunction', 'FaceDetectionFunction']) {
    assert.deepEqual(R[id].Properties.Events.ContentEvents.Properties.MaximumBatchingWindowInSeconds, { Ref: 'QueueBatchingWindowSeconds' }, id)
  }
  assert.deepEqual(R.UpdateContentIndexFunction.Properties.Events.TableStream.Properties.MaximumBatchingWindowInSeconds, { Ref: 'StreamBatchingWindowSeconds' })
})

test('functions: provided.al2023, architectures, code from make package, environment', () => {
  const g = template.Globals.Function
  assert.equal(g.Runtime, 'provided.al2023')
  assert.equal(g.Handler, 'bootstrap')
  assert.equal(g.Environment.Variables.LOG_FORMAT, 'json')
  assert.deepEqual(Object.keys(g.Environment.Variables).filter((k) => ['BUCKET_NAME', 'TABLE_NAME'].includes(k)).sort(), ['BUCKET_NAME', 'TABLE_NAME'])
  const fns = ofType('AWS::Serverless::Function')
  assert.deepEqual(fns.map(([id]) => id).sort(), Object.keys(FUNCTIONS).sort())
  for (const [id, want] of Object.entries(FUNCTIONS)) {
    const p = R[id].Properties
    assert.equal(p.CodeUri, `build/${want.binary}/`, `${id} CodeUri`)
    // The Architecture parameter's default is AWS's (the local stack deploys the host's).
    const arch = (p.Architectures ?? g.Architectures).map((a) => (a.Ref ? template.Parameters[a.Ref].Default : a))
    assert.deepEqual(arch, [want.arch], `${id} architecture`)
    if (want.trigger === 'Cognito') assert.equal(p.Events, undefined, `${id}: no SAM event`)
    else assert.equal(Object.values(p.Events)[0].Type, want.trigger)
    assert.ok(p.MemorySize >= 128 && p.MemorySize <= 10240)
    // A Cognito trigger has 5 s (Cognito stops waiting then); the others at least 10 s.
    assert.ok(p.Timeout >= (want.trigger === 'Cognito' ? 1 : 10) && p.Timeout <= 900, `${id} timeout`)
    assert.equal(resolver.resolve(p.FunctionName), `media-sharing-${want.binary}`)
  }
  const env = (id) => Object.keys(R[id].Properties.Environment.Variables)
  for (const k of ['MAX_IMAGE_BYTES', 'MAX_IMAGE_PIXELS']) {
    assert.ok(env('ContentUpdatedFunction').includes(k))
    assert.ok(env('FaceDetectionFunction').includes(k))
  }
  for (const k of ['PRESIGN_EXPIRY_SECONDS', 'FACE_MODEL_PATH', 'FACE_DETECTOR']) assert.ok(env('FaceDetectionFunction').includes(k), k)
  assert.ok(env('UpdateContentIndexFunction').includes('PUBLIC_INDEX_LIMIT'))
  assert.equal(R.PurgeBucketFunction.Properties.Environment.Variables.PURGE_PREFIX, 'tmp/')
  assert.ok(env('PurgeBucketFunction').includes('PURGE_MAX_AGE_SECONDS'))
  assert.deepEqual(R.PurgeBucketFunction.Properties.Events.Hourly.Properties.Schedule, { Ref: 'PurgeSchedule' })
  assert.equal(template.Parameters.PurgeSchedule.Default, 'rate(1 hour)')
  assert.equal(template.Parameters.AllowPrivateImageUrls.Default, '0')
  assert.equal(R.FaceDetectionFunction.Properties.Environment.Variables.ALLOW_PRIVATE_IMAGE_URLS.Ref, 'AllowPrivateImageUrls')
})

test('the daily repair pass is sent a whole-pass request, never EventBridge\'s own event', () => {
  // repair refuses any payload but a repair request (RepairRequest::from_payload).
  const daily = R.RepairFunction.Properties.Events.Daily
  assert.equal(daily.Type, 'Schedule')
  assert.deepEqual(JSON.parse(daily.Properties.Input), {})
})

// ------------------------------------------------------------------- alarms
// The lists come from the template itself, so a new queue, on-failure destination
// or function without its alarm fails here.
const refOrAtt = (v) => v?.Ref ?? v?.['Fn::GetAtt']?.[0]
const alarms = ofType('AWS::CloudWatch::Alarm').map(([id, a]) => ({ id, ...a.Properties }))
const alarmTopics = () => ofType('AWS::SNS::Topic').filter(([id]) => id === 'AlarmTopic')

function alarmsOn(namespace, metric, dimension, logicalId, attribute) {
  return alarms.filter((a) =>
    a.Namespace === namespace &&
    a.MetricName === metric &&
    a.Dimensions?.length === 1 &&
    a.Dimensions[0].Name === dimension &&
    (attribute
      ? a.Dimensions[0].Value?.['Fn::GetAtt']?.[0] === logicalId && a.Dimensions[0].Value['Fn::GetAtt'][1] === attribute
      : a.Dimensions[0].Value?.Ref === logicalId),
  )
}

function assertFiresOnAnyAndNotifies(a, statistic) {
  assert.equal(a.Statistic, statistic, `${a.id} statistic`)
  assert.equal(a.ComparisonOperator, 'GreaterThanThreshold', `${a.id} operator`)
  assert.equal(a.Threshold, 0, `${a.id}: fires on the first one`)
  assert.ok(a.Period * a.EvaluationPeriods <= 300, `${a.id}: within 5 minutes`)
  assert.equal(a.TreatMissingData, 'notBreaching', `${a.id}: no data is nothing wrong`)
  assert.deepEqual(a.AlarmActions, [{ Ref: 'AlarmTopic' }], `${a.id} notifies the alarm topic`)
}

// Queues nothing consumes: dead-letter queues and on-failure destinations, found
// from the references to them (RedrivePolicy, DestinationConfig, EventInvokeConfig).
function failureQueues() {
  const dlqs = ofType('AWS::SQS::Queue')
    .map(([, q]) => refOrAtt(q.Properties.RedrivePolicy?.deadLetterTargetArn))
    .filter(Boolean)
  const onFailure = []
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node && typeof node === 'object') {
      if (node.OnFailure?.Destination) onFailure.push(refOrAtt(node.OnFailure.Destination))
      Object.values(node).forEach(walk)
    }
  }
  walk(R)
  return { dlqs, onFailure: onFailure.filter((id) => R[id]?.Type === 'AWS::SQS::Queue') }
}

test('alarms: one SNS topic, email subscription only when AlarmEmail is set', () => {
  assert.equal(alarmTopics().length, 1)
  const p = template.Parameters.AlarmEmail
  assert.equal(p.Type, 'String')
  assert.equal(p.Default, '')
  assert.match('', new RegExp(p.AllowedPattern), 'empty is allowed')
  assert.match('ops@example.com', new RegExp(p.AllowedPattern))
  assert.doesNotMatch('not an address', new RegExp(p.AllowedPattern))
  assert.deepEqual(template.Conditions.HasAlarmEmail, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] })
  const email = ofType('AWS::SNS::Subscription').filter(([, s]) => s.Properties.Protocol === 'email')
  assert.equal(email.length, 1)
  const [, sub] = email[0]
  assert.equal(sub.Condition, 'HasAlarmEmail')
  assert.deepEqual(sub.Properties.TopicArn, { Ref: 'AlarmTopic' })
  assert.deepEqual(sub.Properties.Endpoint, { Ref: 'AlarmEmail' })
  assert.ok(template.Outputs.AlarmTopicArn, 'the topic is an output (other subscriptions)')
})

test('alarms: every dead-letter queue and the stream on-failure queue alarm on a visible message', () => {
  const { dlqs, onFailure } = failureQueues()
  assert.ok(dlqs.length >= 2, `dead-letter queues found: ${dlqs}`)
  assert.ok(onFailure.includes('IndexUpdateFailuresQueue'), `on-failure queues found: ${onFailure}`)
  for (const q of [...dlqs, ...onFailure]) {
    const found = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', q, 'QueueName')
    assert.equal(found.length, 1, `${q} has one ApproximateNumberOfMessagesVisible alarm`)
    assertFiresOnAnyAndNotifies(found[0], 'Maximum')
  }
  // Every queue is either a function's event source or alarmed: a new queue nothing
  // consumes (a failure queue) cannot be added without its alarm.
  const sources = new Set(ofType('AWS::Serverless::Function').flatMap(([, f]) =>
    Object.values(f.Properties.Events ?? {}).filter((e) => e.Type === 'SQS').map((e) => refOrAtt(e.Properties.Queue))))
  for (const [id] of ofType('AWS::SQS::Queue')) {
    if (sources.has(id)) continue
    assert.equal(alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', id, 'QueueName').length, 1, `${id} is alarmed`)
  }
})

test('alarms: every function alarms on Errors (Sum > 0 over 5 minutes)', () => {
  const fns = [...ofType('AWS::Serverless::Function'), ...ofType('AWS::Lambda::Function')].map(([id]) => id)
  assert.deepEqual(fns.sort(), Object.keys(FUNCTIONS).sort())
  for (const fn of fns.filter((id) => id !== 'MigrateUserFunction')) {
    const found = alarmsOn('AWS/Lambda', 'Errors', 'FunctionName', fn)
    assert.equal(found.length, 1, `${fn} has one Errors alarm`)
    assertFiresOnAnyAndNotifies(found[0], 'Sum')
    assert.equal(found[0].Period, 300)
    assert.equal(found[0].EvaluationPeriods, 1)
  }
  // No alarm points at something that is not in the template.
  for (const a of alarms.filter((a) => a.Dimensions)) {
    const target = refOrAtt(a.Dimensions[0].Value)
    assert.ok(R[target], `${a.id} watches ${target}, a resource of this template`)
  }
})

// CloudWatch Logs filter patterns as migrate-user's two use them ("Filter pattern syntax for
// metric filters"): `{ $.field = "value" }` on a JSON line, `?"term" ?"term"` on any line.
function filterMatches(pattern, line) {
  const json = /^\{\s*\$\.(\w+)\s*=\s*"([^"]*)"\s*\}$/.exec(pattern)
  if (json) {
    try {
      return JSON.parse(line)[json[1]] === json[2]
    } catch {
      return false
    }
  }
  const terms = [...pattern.matchAll(/\?"([^"]*)"/g)].map((m) => m[1])
  assert.ok(terms.length > 0, `unsupported filter pattern ${pattern}`)
  return terms.some((t) => line.includes(t))
}

test('alarms: migrate-user alarms on its failures, never on a refused sign-in', () => {
  assert.equal(alarmsOn('AWS/Lambda', 'Errors', 'FunctionName', 'MigrateUserFunction').length, 0,
    "Lambda's Errors counts every wrong password: no alarm on it")
  const filters = ofType('AWS::Logs::MetricFilter').filter(([, f]) => f.Properties.LogGroupName?.Ref === 'MigrateUserLogGroup')
  const metric = filters[0][1].Properties.MetricTransformations[0]
  for (const [, f] of filters) assert.deepEqual(f.Properties.MetricTransformations[0], metric, 'one metric')
  const found = alarms.filter((a) => a.MetricName === metric.MetricName && JSON.stringify(a.Namespace) === JSON.stringify(metric.MetricNamespace))
  assert.equal(found.length, 1)
  assertFiresOnAnyAndNotifies(found[0], 'Sum')
  // Lines as migrate-user writes them in Lambda (media-core/src/telemetry.rs: JSON, flattened),
  // and as the Lambda runtime reports a timeout or a crash.
  const counted = (line) => filters.some(([, f]) => filterMatches(f.Properties.FilterPattern, line))
  const refusals = [
    '{"level":"INFO","message":"user not migrated","trigger":"UserMigration_Authentication","reason":"wrong_password"}',
    '{"level":"INFO","message":"user not migrated","trigger":"UserMigration_Authentication","reason":"unknown_user"}',
    '{"level":"WARN","message":"user not migrated: the legacy item has no usable hash or salt","reason":"unusable_item"}',
  ]
  const failures = [
    '{"level":"ERROR","message":"user not migrated: the legacy table could not be read","error":"GetItem SampleAuthUsers: throttled"}',
    '2026-12-06T18:00:00.000Z abc Task timed out after 5.01 seconds',
    'RequestId: abc Error: Runtime exited with error: signal: killed Runtime.ExitError',
  ]
  for (const line of refusals) assert.equal(counted(line), false, line)
  for (const line of failures) assert.equal(counted(line), true, line)
})

test('Cognito: email sign-in, public client with password and SRP auth, guests allowed', () => {
  const up = R.UserPool.Properties
  assert.deepEqual(up.UsernameAttributes, ['email'])
  assert.deepEqual(up.AutoVerifiedAttributes, ['email'])
  const c = R.UserPoolClient.Properties
  assert.equal(c.GenerateSecret, false)
  for (const f of ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']) assert.ok(c.ExplicitAuthFlows.includes(f), f)
  const ip = R.IdentityPool.Properties
  assert.equal(ip.AllowUnauthenticatedIdentities, true)
  assert.deepEqual(ip.CognitoIdentityProviders[0].ClientId, { Ref: 'UserPoolClient' })
})

test('user migration: trigger, permission and read grant only with LegacyUsersTableName', () => {
  const p = template.Parameters.LegacyUsersTableName
  assert.equal(p.Type, 'String')
  assert.equal(p.Default, '')
  for (const ok of ['', 'SampleAuthUsers', 'legacy.users-2']) assert.match(ok, new RegExp(p.AllowedPattern), ok)
  for (const bad of ['ab', 'two words', 'arn:aws:dynamodb:us-east-1:123456789012:table/SampleAuthUsers']) {
    assert.doesNotMatch(bad, new RegExp(p.AllowedPattern), bad)
  }
  assert.deepEqual(template.Conditions.HasLegacyUsers, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'LegacyUsersTableName' }, ''] }] })
  const fn = R.MigrateUserFunction.Properties
  assert.deepEqual(fn.Environment.Variables, { LEGACY_USERS_TABLE_NAME: { Ref: 'LegacyUsersTableName' } })
  assert.ok(fn.Timeout <= 5, 'Cognito waits 5 s for a trigger')
  assert.deepEqual(fn.Role, { 'Fn::GetAtt': ['MigrateUserRole', 'Arn'] })
  assert.equal(R.MigrateUserPermission.Condition, 'HasLegacyUsers')
  const dynamodbActions = (r) => r.resolve(R.MigrateUserRole.Properties.Policies)
    .flatMap((policy) => policy.PolicyDocument.Statement)
    .flatMap((st) => [st.Action].flat())
    .filter((a) => a.startsWith('dynamodb:'))

  // Default: nothing calls the function and it can read nothing.
  const off = new Resolver(template)
  assert.equal(off.condition('HasLegacyUsers'), false)
  assert.deepEqual(off.resolve(R.UserPool.Properties.LambdaConfig), {})
  assert.deepEqual(dynamodbActions(off), [])

  // Set: the pool asks the function, which Cognito may call for this pool only.
  const on = new Resolver(template, { parameters: { LegacyUsersTableName: 'SampleAuthUsers' } })
  assert.equal(on.condition('HasLegacyUsers'), true)
  assert.deepEqual(on.resolve(R.UserPool.Properties.LambdaConfig), { UserMigration: on.atts['MigrateUserFunction.Arn'] })
  assert.deepEqual(on.resolve(R.MigrateUserPermission.Properties), {
    Action: 'lambda:InvokeFunction',
    FunctionName: on.atts['MigrateUserFunction.Arn'],
    Principal: 'cognito-idp.amazonaws.com',
    SourceArn: on.atts['UserPool.Arn'],
    SourceAccount: ACCOUNT,
  })
  assert.deepEqual(dynamodbActions(on), ['dynamodb:GetItem'])
  // The trigger gets the password only from USER_PASSWORD_AUTH (SRP never sends it).
  assert.ok(R.UserPoolClient.Properties.ExplicitAuthFlows.includes('ALLOW_USER_PASSWORD_AUTH'))
})

test('outputs: everything the client config.json needs', () => {
  const out = Object.fromEntries(Object.entries(template.Outputs).map(([k, v]) => [k, resolver.resolve(v.Value)]))
  for (const k of ['Region', 'BucketName', 'TableName', 'UserPoolId', 'UserPoolClientId', 'IdentityPoolId']) assert.ok(out[k], k)
  const config = JSON.parse(out.ClientConfig)
  assert.deepEqual(Object.keys(config).sort(), ['bucket', 'identityPoolId', 'maxUploadBytes', 'region', 's3ForcePathStyle',
    'storageQuotaBytes', 'table', 'userPoolClientId', 'userPoolId'])
  assert.equal(config.s3ForcePathStyle, false)
  assert.equal(config.maxUploadBytes, template.Parameters.MaxImageBytes.Default)
  assert.equal(config.storageQuotaBytes, template.Parameters.StorageQuotaBytes.Default)
  assert.equal(config.bucket, resolver.refs.MediaBucket)
  assert.equal(config.identityPoolId, resolver.refs.IdentityPool)
})

// ------------------------------------------------------------- parameters
// What CloudFormation checks before it creates anything (parameter constraints and the Rules
// section), evaluated by test/cfn.mjs's parameterErrors: `sam deploy` refuses these values
// itself instead of failing halfway through a deployment, or deploying something that breaks a
// guarantee.

const sqsConsumers = ofType('AWS::Serverless::Function').flatMap(([id, f]) =>
  Object.values(f.Properties.Events ?? {}).filter((e) => e.Type === 'SQS').map((e) => ({ id, fn: f.Properties, ev: e.Properties, queue: e.Properties.Queue['Fn::GetAtt'][0] })))

// devstack/src/deploy.rs's LocalParameters, and what the e2e tests and the bench add
// (tests/tests/indexes.rs, bench/Makefile's PARAMETERS).
const LOCAL = {
  ClientOrigin: 'http://127.0.0.1:5173',
  // The emulator has no CloudFront: the local stack serves the client itself.
  HostClient: 'false',
  Architecture: 'x86_64',
  PurgeSchedule: 'rate(5 minutes)',
  QueueRetrySeconds: '2',
  AllowPrivateImageUrls: '1',
  FaceModelPath: '/root/.cache/media-share/models/centerface.onnx',
}

test('parameters: the defaults, the local stack and its test and bench overrides are accepted', () => {
  assert.deepEqual(parameterErrors(template), [], 'defaults')
  assert.deepEqual(parameterErrors(template, LOCAL), [], 'devstack')
  for (const extra of [
    { PurgeSchedule: 'rate(1 minute)' },
    { Architecture: 'arm64' },
    { FaceModelPath: '/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt.xml' },
    { PrivateIndexHeadLimit: '4', PublicIndexLimit: '4', IndexPageSize: '3', IndexVolumeSize: '2' },
    { QueueBatchingWindowSeconds: '0', StreamBatchingWindowSeconds: '0' },
    { StorageQuotaBytes: '4194304' },
  ]) assert.deepEqual(parameterErrors(template, { ...LOCAL, ...extra }), [], JSON.stringify(extra))
})

// [parameter, value, why AWS (or the stack's guarantees) refuses it]
const REFUSED = [
  ['ClientOrigin', 'localhost:5173', 'CORS matches a scheme://host[:port] origin'],
  ['ClientOrigin', 'https://example.com/', 'an origin has no path'],
  ['HostClient', 'no', 'true or false'],
  ['PublicIndexLimit', '0', 'an empty public head'],
  ['PrivateIndexHeadLimit', '0', 'an empty private head'],
  ['PrivateIndexHeadLimit', '1001', 'a head past what the index sizing assumes'],
  ['IndexPageSize', '1', 'pages of one item'],
  ['IndexVolumeSize', '1', 'a volume must hold at least two entries'],
  ['QueueBatchingWindowSeconds', '301', 'Lambda: MaximumBatchingWindowInSeconds 0..300'],
  ['QueueBatchingWindowSeconds', '-1', 'Lambda: MaximumBatchingWindowInSeconds 0..300'],
  ['StreamBatchingWindowSeconds', '301', 'Lambda: MaximumBatchingWindowInSeconds 0..300'],
  ['StreamBatchingWindowSeconds', 'two', 'not a number'],
  ['PurgeMaxAgeSeconds', '59', 'younger than a direct call needs its tmp/ file'],
  ['PurgeMaxAgeSeconds', '86401', "tmp/'s lifecycle rule deletes after a day whatever this says"],
  ['MaxImageBytes', '52428801', 'the image functions are sized for 50 MiB'],
  ['MaxImagePixels', '100000001', 'the image functions are sized for 100 MP'],
  ['StorageQuotaBytes', '1000', 'a quota smaller than one picture'],
  ['PresignExpirySeconds', '59', 'shorter than any use'],
  ['PresignExpirySeconds', '86401', "the tmp/ object is gone after a day (lifecycle), the link would 404"],
  ['PresignExpirySeconds', '604801', 'SigV4: at most 7 days'],
  ['FaceDetector', 'yolo', 'face-detection knows dnn, centerface and haar only'],
  ['FaceModelPath', 'models/centerface.onnx', 'a relative path depends on the working directory'],
  ['LogRetentionDays', '2', 'CloudWatch Logs: not a retention it accepts'],
  ['LogRetentionDays', '10000', 'CloudWatch Logs: not a retention it accepts'],
  ['Architecture', 'arm', 'Lambda: arm64 or x86_64'],
  ['PurgeSchedule', 'every hour', 'EventBridge: rate() or cron()'],
  ['PurgeSchedule', 'rate(1 minutes)', 'EventBridge: singular unit for 1'],
  ['PurgeSchedule', 'rate(5 minute)', 'EventBridge: plural unit above 1'],
  ['PurgeSchedule', 'rate(0 minutes)', 'EventBridge: a positive rate'],
  ['PurgeSchedule', 'cron(0 * * * *)', 'EventBridge: cron() takes six fields'],
  ['QueueRetrySeconds', '1', 'Lambda: visibility timeout shorter than the functions\' timeouts'],
  ['QueueRetrySeconds', '120', "Lambda: shorter than face-detection's 180 s"],
  ['QueueRetrySeconds', '179', "Lambda: shorter than face-detection's 180 s"],
  ['QueueRetrySeconds', '43201', 'SQS: VisibilityTimeout at most 12 hours'],
  ['AllowPrivateImageUrls', 'yes', '0 or 1'],
  ['AlarmEmail', 'ops', 'SNS: an email subscription needs an address'],
  ['LegacyUsersTableName', 'ab', 'DynamoDB: table names of 3..255 characters'],
]

test('parameters: a value AWS would refuse, or that breaks a guarantee, is refused before deployment', () => {
  for (const [name, value, why] of REFUSED) {
    const errors = parameterErrors(template, { [name]: value })
    assert.ok(errors.length > 0, `${name}=${value} accepted (${why})`)
    assert.ok(errors.every((e) => e.includes(name)), `${name}=${value}: ${errors}`)
  }
  // Every parameter has at least one refused value here, or is free text by nature.
  const free = []
  for (const name of Object.keys(template.Parameters)) {
    if (!REFUSED.some(([n]) => n === name)) free.push(name)
  }
  assert.deepEqual(free, [], 'parameters without a refused value under test')
})

test('parameters: QueueRetrySeconds is 0 or at least every SQS consumer\'s timeout, except on the local stack', () => {
  const longest = Math.max(...sqsConsumers.map((c) => c.fn.Timeout))
  assert.equal(longest, 180)
  const rule = template.Rules.QueueRetryOutlastsTheFunctions
  const refused = rule.Assertions[0].Assert['Fn::Not'][0]['Fn::Contains'][0]
  assert.deepEqual(refused, Array.from({ length: longest - 1 }, (_, i) => String(i + 1)), 'the refused list is 1..(longest timeout - 1)')
  for (const v of [0, 180, 181, 3600, 43200]) assert.deepEqual(parameterErrors(template, { QueueRetrySeconds: String(v) }), [], `${v}`)
  for (let v = 1; v < longest; v++) assert.ok(parameterErrors(template, { QueueRetrySeconds: String(v) }).length, `${v}`)
  // Every accepted value gives each queue a visibility timeout its consumer's timeout fits in.
  for (const v of ['0', '180', '43200']) {
    const r = new Resolver(template, { parameters: { QueueRetrySeconds: v } })
    for (const c of sqsConsumers) {
      const visibility = Number(r.resolve(R[c.queue].Properties.VisibilityTimeout))
      assert.ok(visibility >= c.fn.Timeout && visibility <= 43200, `${c.queue} ${visibility} s for ${c.id} (${c.fn.Timeout} s), QueueRetrySeconds=${v}`)
    }
  }
  // The local stack (AllowPrivateImageUrls=1) may retry sooner: its emulator does not check.
  assert.deepEqual(rule.RuleCondition, { 'Fn::Equals': [{ Ref: 'AllowPrivateImageUrls' }, '0'] })
  assert.deepEqual(parameterErrors(template, { QueueRetrySeconds: '2', AllowPrivateImageUrls: '1' }), [])
})

test('event sources: what Lambda accepts (batch sizes, windows, concurrency)', () => {
  for (const c of sqsConsumers) {
    // Standard queues: BatchSize 1..10,000, and above 10 a batching window of at least 1 s.
    assert.ok(c.ev.BatchSize >= 1 && c.ev.BatchSize <= 10000, `${c.id} BatchSize`)
    const window = template.Parameters[c.ev.MaximumBatchingWindowInSeconds.Ref]
    assert.ok(window.MinValue >= 0 && window.MaxValue <= 300, `${c.id} window 0..300`)
    if (c.ev.BatchSize > 10) assert.ok(window.MinValue >= 1, `${c.id}: BatchSize > 10 needs a window of at least 1 s`)
    const max = c.ev.ScalingConfig.MaximumConcurrency
    assert.ok(Number.isInteger(max) && max >= 2 && max <= 1000, `${c.id} MaximumConcurrency 2..1000`)
  }
  const stream = R.UpdateContentIndexFunction.Properties.Events.TableStream.Properties
  assert.ok(stream.BatchSize >= 1 && stream.BatchSize <= 10000)
  const window = template.Parameters[stream.MaximumBatchingWindowInSeconds.Ref]
  assert.ok(window.MinValue >= 0 && window.MaxValue <= 300)
  assert.ok(stream.ParallelizationFactor >= 1 && stream.ParallelizationFactor <= 10)
  assert.ok(stream.MaximumRecordAgeInSeconds >= 60 && stream.MaximumRecordAgeInSeconds <= 604800)
  // Every CloudWatch Logs retention value is one the service accepts.
  const RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
  for (const v of template.Parameters.LogRetentionDays.AllowedValues) assert.ok(RETENTION.includes(v), `${v}`)
})

// docs/decisions/throttling.md: the account's 10 concurrent executions (new accounts), shared
// so that a burst waits in the queues instead of being throttled into the dead-letter queues.
const ACCOUNT_CONCURRENCY = 10
// Open stream shards the decision budgets for (the stream consumer runs one batch per shard
// and ParallelizationFactor).
const STREAM_SHARDS = 2
// Kept free for synchronous callers nothing can bound: Cognito's migrate-user trigger and
// direct face-detection calls.
const SPARE = 1

test('throttling: queue sources, the stream consumer and the scheduled functions fit in 10 concurrent executions', () => {
  const queues = Object.fromEntries(sqsConsumers.map((c) => [c.id, c.ev.ScalingConfig.MaximumConcurrency]))
  assert.deepEqual(queues, { ContentUpdatedFunction: 2, FaceDetectionFunction: 3 })
  const stream = R.UpdateContentIndexFunction.Properties.Events.TableStream.Properties.ParallelizationFactor * STREAM_SHARDS
  const scheduled = ofType('AWS::Serverless::Function')
    .filter(([, f]) => Object.values(f.Properties.Events ?? {}).some((e) => e.Type === 'Schedule')).map(([id]) => id)
  assert.deepEqual(scheduled.sort(), ['PurgeBucketFunction', 'RepairFunction'])
  const total = Object.values(queues).reduce((a, b) => a + b, 0) + stream + scheduled.length
  assert.ok(total + SPARE <= ACCOUNT_CONCURRENCY, `${total} + ${SPARE} spare > ${ACCOUNT_CONCURRENCY}`)
  // No reserved concurrency anywhere: with 10 in the account Lambda refuses any reservation.
  for (const [id, f] of ofType('AWS::Serverless::Function')) assert.equal(f.Properties.ReservedConcurrentExecutions, undefined, id)
  assert.equal(template.Globals.Function.ReservedConcurrentExecutions, undefined)
})

test('throttling: a message survives hours of throttled receives before its dead-letter queue', () => {
  for (const c of sqsConsumers) {
    const q = R[c.queue].Properties
    const visibility = Number(resolver.resolve(q.VisibilityTimeout))
    // A throttled batch goes back to the queue after one visibility timeout and counts one
    // receive; maxReceiveCount - 1 of them must cover at least an hour (the stream's
    // MaximumRecordAgeInSeconds, the same patience for the index).
    assert.ok((q.RedrivePolicy.maxReceiveCount - 1) * visibility >= 3600, `${c.queue}`)
  }
})
