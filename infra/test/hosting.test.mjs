// The web client's hosting in infra/template.yaml: a private bucket read by the stack's
// CloudFront distribution only (origin access control), HTTPS only, the client's
// content-security policy and the other security headers, and none of it with
// HostClient=false (the local stack).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { evaluateWithContext } from './simulate.mjs'
import { ACCOUNT, loadTemplate, parameterErrors, Resolver } from './cfn.mjs'

const template = loadTemplate()
const R = template.Resources
const hosted = new Resolver(template)
const local = new Resolver(template, { parameters: { HostClient: 'false', ClientOrigin: 'http://127.0.0.1:5173' } })

const HOSTING = ['ClientBucket', 'ClientBucketPolicy', 'ClientOriginAccessControl', 'ClientHeadersPolicy', 'ClientDistribution']
const DISTRIBUTION_ARN = `arn:aws:cloudfront::${ACCOUNT}:distribution/${hosted.refs.ClientDistribution}`
const exists = (resolver, id) => R[id].Condition === undefined || resolver.condition(R[id].Condition) === true
const distribution = () => hosted.resolve(R.ClientDistribution.Properties.DistributionConfig)

test('hosting is on by default and every hosting resource depends on it', () => {
  assert.equal(template.Parameters.HostClient.Default, 'true')
  assert.deepEqual(template.Parameters.HostClient.AllowedValues, ['true', 'false'])
  for (const id of HOSTING) {
    assert.equal(R[id].Condition, 'HostsClient', id)
    assert.ok(exists(hosted, id), id)
  }
  const cloudfront = Object.keys(R).filter((id) => R[id].Type.startsWith('AWS::CloudFront::'))
  assert.deepEqual(cloudfront.sort(), ['ClientDistribution', 'ClientHeadersPolicy', 'ClientOriginAccessControl'])
})

test('HostClient=false creates none of the hosting resources or outputs', () => {
  assert.equal(local.condition('HostsClient'), false)
  for (const id of HOSTING) assert.equal(exists(local, id), false, id)
  // Every resource that remains names none of them (the emulator creates the rest as before).
  const remaining = Object.entries(R).filter(([id]) => exists(local, id))
  for (const [id, res] of remaining) {
    const resolved = JSON.stringify(local.resolve(res.Properties ?? {}))
    for (const h of HOSTING) assert.ok(!resolved.includes(hosted.refs[h]), `${id} names ${h}`)
  }
  // Every output that names a hosting resource exists only with it.
  const names = (node) => HOSTING.some((h) => new RegExp(`\\b${h}\\b`).test(JSON.stringify(node)))
  const hostingOutputs = Object.entries(template.Outputs).filter(([, out]) => names(out.Value))
  assert.deepEqual(hostingOutputs.map(([k]) => k).sort(), ['ClientBucketName', 'ClientDistributionId', 'ClientUrl'])
  for (const [name, out] of hostingOutputs) assert.equal(out.Condition, 'HostsClient', name)
  // The media bucket's CORS origin is ClientOrigin then.
  assert.deepEqual(local.resolve(R.MediaBucket.Properties.CorsConfiguration.CorsRules[0].AllowedOrigins), ['http://127.0.0.1:5173'])
})

test('HostClient=false without ClientOrigin is refused before deployment', () => {
  assert.deepEqual(parameterErrors(template), [], 'defaults: hosted, CORS from the distribution')
  assert.deepEqual(parameterErrors(template, { HostClient: 'false', ClientOrigin: 'http://127.0.0.1:5173' }), [])
  const errors = parameterErrors(template, { HostClient: 'false' })
  assert.equal(errors.length, 1)
  assert.match(errors[0], /ClientOriginWithoutHosting/)
})

test('the media bucket allows the distribution\'s https origin, or ClientOrigin when set', () => {
  const origins = (r) => r.resolve(R.MediaBucket.Properties.CorsConfiguration.CorsRules[0].AllowedOrigins)
  assert.deepEqual(origins(hosted), ['https://d111111abcdef8.cloudfront.net'])
  const override = new Resolver(template, { parameters: { ClientOrigin: 'https://photos.example.com' } })
  assert.deepEqual(origins(override), ['https://photos.example.com'])
})

test('the client bucket blocks public access, is encrypted and takes no ACLs', () => {
  const p = R.ClientBucket.Properties
  assert.deepEqual(p.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
  })
  assert.equal(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256')
  assert.deepEqual(p.OwnershipControls.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }])
  assert.equal(p.WebsiteConfiguration, undefined, 'no S3 website endpoint (it would be public and HTTP only)')
})

test('the origin is the client bucket through origin access control, never an identity or a website', () => {
  const d = distribution()
  assert.equal(d.Origins.length, 1)
  const [origin] = d.Origins
  assert.equal(origin.DomainName, `${hosted.refs.ClientBucket}.s3.us-east-1.amazonaws.com`)
  assert.deepEqual(R.ClientDistribution.Properties.DistributionConfig.Origins[0].OriginAccessControlId,
    { 'Fn::GetAtt': ['ClientOriginAccessControl', 'Id'] })
  assert.equal(origin.S3OriginConfig.OriginAccessIdentity, '')
  assert.equal(origin.CustomOriginConfig, undefined)
  const oac = R.ClientOriginAccessControl.Properties.OriginAccessControlConfig
  assert.equal(oac.OriginAccessControlOriginType, 's3')
  assert.equal(oac.SigningBehavior, 'always')
  assert.equal(oac.SigningProtocol, 'sigv4')
  assert.equal(d.DefaultCacheBehavior.TargetOriginId, origin.Id)
})

test('viewers are redirected to HTTPS, read only, with the security headers', () => {
  const d = distribution()
  assert.equal(d.Enabled, true)
  assert.equal(d.DefaultRootObject, 'index.html')
  assert.equal(d.CacheBehaviors, undefined, 'one behaviour: the default')
  const b = d.DefaultCacheBehavior
  assert.equal(b.ViewerProtocolPolicy, 'redirect-to-https')
  assert.deepEqual(b.AllowedMethods, ['GET', 'HEAD'])
  assert.deepEqual(R.ClientDistribution.Properties.DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId, { Ref: 'ClientHeadersPolicy' })
})

// client/index.html's meta policy: the page's own, which the header must not narrow on AWS.
const html = readFileSync(new URL('../../client/index.html', import.meta.url), 'utf8')
const metaCsp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1]
const directives = (csp) => Object.fromEntries(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
  const [name, ...sources] = d.split(/\s+/)
  return [name, sources]
}))

test('the content-security policy header is the client\'s, without loopback, with frame-ancestors none', () => {
  assert.ok(metaCsp, 'client/index.html has a CSP meta tag')
  const h = R.ClientHeadersPolicy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig
  assert.equal(h.ContentSecurityPolicy.Override, true)
  const header = directives(h.ContentSecurityPolicy.ContentSecurityPolicy)
  assert.deepEqual(header['frame-ancestors'], ["'none'"])
  assert.deepEqual(header['script-src'], ["'self'"])
  assert.deepEqual(header['object-src'], ["'none'"])
  const loopback = (s) => /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(s)
  const expected = Object.fromEntries(Object.entries(directives(metaCsp)).map(([n, s]) => [n, s.filter((x) => !loopback(x))]))
  const { 'frame-ancestors': _, ...rest } = header
  assert.deepEqual(rest, expected, 'the header says what the meta tag says, loopback sources aside')
  for (const sources of Object.values(header)) {
    for (const s of sources) assert.ok(!loopback(s) && !s.startsWith('http:'), s)
    assert.ok(!sources.includes("'unsafe-inline'") && !sources.includes("'unsafe-eval'"))
  }
})

test('HSTS, nosniff, frame denial and no referrer', () => {
  const h = R.ClientHeadersPolicy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig
  assert.ok(h.StrictTransportSecurity.AccessControlMaxAgeSec >= 31536000, 'HSTS for at least a year')
  assert.equal(h.StrictTransportSecurity.Override, true)
  assert.equal(h.ContentTypeOptions.Override, true)
  assert.equal(h.FrameOptions.FrameOption, 'DENY')
  // The same as the page's <meta name="referrer">.
  assert.match(html, /<meta name="referrer" content="no-referrer"/)
  assert.equal(h.ReferrerPolicy.ReferrerPolicy, 'no-referrer')
})

test('outputs: the client URL, bucket and distribution, only when hosted', () => {
  for (const k of ['ClientUrl', 'ClientBucketName', 'ClientDistributionId']) assert.equal(template.Outputs[k].Condition, 'HostsClient', k)
  assert.equal(hosted.resolve(template.Outputs.ClientUrl.Value), 'https://d111111abcdef8.cloudfront.net')
  assert.equal(hosted.resolve(template.Outputs.ClientBucketName.Value), hosted.refs.ClientBucket)
  assert.equal(hosted.resolve(template.Outputs.ClientDistributionId.Value), hosted.refs.ClientDistribution)
})

// ------------------------------------------------------- the bucket policy

const clientPolicy = hosted.resolve(R.ClientBucketPolicy.Properties.PolicyDocument)
const BUCKET_ARN = hosted.atts['ClientBucket.Arn']

test('the bucket policy names the distribution as aws:SourceArn, nothing wider', () => {
  const allows = clientPolicy.Statement.filter((s) => s.Effect === 'Allow')
  assert.equal(allows.length, 1)
  const [st] = allows
  assert.deepEqual(st.Principal, { Service: 'cloudfront.amazonaws.com' })
  assert.equal(st.Action, 's3:GetObject')
  assert.equal(st.Resource, `${BUCKET_ARN}/*`)
  assert.deepEqual(st.Condition, { StringEquals: { 'AWS:SourceArn': DISTRIBUTION_ARN } })
  const deny = clientPolicy.Statement.find((s) => s.Sid === 'DenyInsecureTransport')
  assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } })
})

// [who, action, key, context, expected]
const CLOUDFRONT = 'cloudfront.amazonaws.com'
const CASES = [
  [CLOUDFRONT, 's3:GetObject', 'index.html', { 'aws:SourceArn': DISTRIBUTION_ARN, 'aws:SecureTransport': 'true' }, 'Allowed', 'the distribution reads a file'],
  [CLOUDFRONT, 's3:GetObject', 'assets/index-abc123.js', { 'aws:SourceArn': DISTRIBUTION_ARN, 'aws:SecureTransport': 'true' }, 'Allowed', 'the distribution reads an asset'],
  [CLOUDFRONT, 's3:GetObject', 'index.html', { 'aws:SourceArn': `arn:aws:cloudfront::${ACCOUNT}:distribution/EOTHERDIST`, 'aws:SecureTransport': 'true' }, 'Denied', "another distribution of the account"],
  [CLOUDFRONT, 's3:GetObject', 'index.html', { 'aws:SourceArn': 'arn:aws:cloudfront::999999999999:distribution/E2QWRUHEXAMPLE', 'aws:SecureTransport': 'true' }, 'Denied', "another account's distribution"],
  [CLOUDFRONT, 's3:GetObject', 'index.html', { 'aws:SecureTransport': 'true' }, 'Denied', 'CloudFront without a source distribution'],
  [CLOUDFRONT, 's3:PutObject', 'index.html', { 'aws:SourceArn': DISTRIBUTION_ARN, 'aws:SecureTransport': 'true' }, 'Denied', 'the distribution writes'],
  [CLOUDFRONT, 's3:DeleteObject', 'index.html', { 'aws:SourceArn': DISTRIBUTION_ARN, 'aws:SecureTransport': 'true' }, 'Denied', 'the distribution deletes'],
  [CLOUDFRONT, 's3:GetObject', 'index.html', { 'aws:SourceArn': DISTRIBUTION_ARN, 'aws:SecureTransport': 'false' }, 'Denied', 'over plain HTTP'],
  ['arn:aws:iam::999999999999:user/mallory', 's3:GetObject', 'index.html', { 'aws:SecureTransport': 'true' }, 'Denied', 'someone else reads the bucket directly'],
]

for (const [who, action, key, context, expected, note] of CASES) {
  test(`client bucket policy: ${note} -> ${expected}`, async () => {
    const sim = {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: clientPolicy,
      additionalSettings: { s3: { blockPublicAccess: true } },
      request: {
        principal: who,
        action,
        resource: { resource: `${BUCKET_ARN}/${key}`, accountId: ACCOUNT },
        contextVariables: context,
      },
    }
    const checked = await runSimulation(sim, {})
    assert.notEqual(checked.resultType, 'error', JSON.stringify(checked.errors))
    const actual = evaluateWithContext(sim) === 'Allowed' ? 'Allowed' : 'Denied'
    assert.equal(actual, expected)
  })
}
