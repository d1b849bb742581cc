// The evaluator of recorded requests (replay.mjs) on a small committed sample of what the tests'
// stacks recorded (fixtures/requests-sample.jsonl): nothing in it is denied by template.yaml, and
// a template without one grant the sample needed fails at the request that needed it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTemplate } from './cfn.mjs'
import { readRecords, replay, report } from './replay.mjs'

const SAMPLE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'requests-sample.jsonl')
const records = readRecords([SAMPLE])

test('the sample covers functions, the web client and the harness', () => {
  const kinds = new Set(records.requests.map((r) => r.principal.kind))
  for (const kind of ['function', 'web', 'harness', 'anonymous']) assert.ok(kinds.has(kind), kind)
  const web = records.requests.filter((r) => r.principal.kind === 'web')
  assert.ok(web.some((r) => r.principal.authenticated) && web.some((r) => !r.principal.authenticated), 'both web roles')
  assert.ok(records.stacks.size >= 1)
})

test('every recorded request in the sample is allowed by template.yaml', () => {
  const result = replay(records)
  assert.deepEqual(result.problems, [])
  assert.equal(result.denied.length, 0, report(result))
  assert.ok(result.evaluated >= 10, `${result.evaluated} distinct requests evaluated`)
})

test("without update-content-index's PutObject on the public index, its index write is denied", () => {
  const template = loadTemplate()
  const [policy] = template.Resources.UpdateContentIndexRole.Properties.Policies
  const statements = policy.PolicyDocument.Statement
  const i = statements.findIndex((st) => st.Sid === 'ReadWriteIndexes')
  const grant = statements[i]
  const isPublic = (r) => JSON.stringify(r).includes('/public/index/')
  // The public index: read only; the private indexes keep both.
  statements.splice(
    i,
    1,
    { ...grant, Sid: 'ReadPublicIndex', Action: 's3:GetObject', Resource: grant.Resource.filter(isPublic) },
    { ...grant, Resource: grant.Resource.filter((r) => !isPublic(r)) },
  )
  const result = replay(records, { template })
  const text = report(result)
  process.stderr.write(`${text.split('\ngrants no request used')[0]}\n`)
  assert.ok(result.denied.length >= 1, text)
  for (const d of result.denied) {
    assert.equal(d.principal, 'function media-sharing-update-content-index')
    assert.equal(d.action, 's3:PutObject')
    assert.match(d.resource, /\/public\/index\/[^/]+\.json$/)
  }
  assert.ok(result.denied.some((d) => d.resource.endsWith('/public/index/content.json')))
  assert.match(text, /DENIED \(ImplicitlyDenied\) function media-sharing-update-content-index \[UpdateContentIndexRole\]: s3:PutObject public\/index\/content\.json/)
  assert.match(text, /made by: content_updated::/)
})

test("a web client's copy is judged with the copy source in the template's names", () => {
  // A signed-in person's upload from the sample, made a CopyObject of their own original (as
  // the client's visibility change sends it) and of another person's.
  const upload = records.requests.find((r) => r.principal.kind === 'web' && r.principal.authenticated &&
    r.authorizations.some((a) => a.action === 's3:PutObject' && a.resource.includes('/content/')))
  assert.ok(upload, 'the sample has a signed-in upload')
  const [target] = upload.authorizations
  const bucket = target.resource.split(':::')[1].split('/')[0]
  const id = upload.principal.identityId
  const copy = (sourceIdentity) => {
    const source = `${bucket}/public/content/${sourceIdentity}/cat%20x.jpg`
    return {
      ...upload,
      operation: 'CopyObject',
      authorizations: [
        { ...target, context: { ...(target.context ?? {}), 's3:x-amz-copy-source': source } },
        { action: 's3:GetObject', resource: `arn:aws:s3:::${source.replace('%20', ' ')}` },
      ],
    }
  }
  const other = 'us-east-1:99999999-9999-4999-8999-999999999999'
  const result = replay({ stacks: records.stacks, requests: [copy(id), copy(other)] })
  assert.deepEqual(result.problems, [])
  assert.equal(result.denied.length, 2, report(result))
  for (const d of result.denied) assert.ok(d.resource.includes(other) || d.context['s3:x-amz-copy-source'].includes(other), JSON.stringify(d))
})
