// Every AWS request the end-to-end and browser tests made, evaluated against the template's
// policies: the identity policies of the role that made it (a function's execution role, the
// identity pool's guest or signed-in role) and, for S3, the bucket policy.
//
// The requests come from devstack's recording proxy (devstack/src/proxy.rs): JSON lines, a
// `stack` line per started stack (its physical names by logical id, its parameters) and one line
// per HTTP request (principal, operation, and the authorisations it needs: action, resource,
// condition keys). The local stack's physical names are mapped onto the names the template
// resolver (cfn.mjs) gives the same resources, so the policies resolve as in policies.test.mjs.
//
//   node test/replay.mjs FILE...          (or AWS_REQUEST_LOG=FILE node test/replay.mjs)
//   node test/replay.mjs --template T FILE...
//
// Prints the requests per principal, evaluated, denied (each denial with the request and the
// tests that made it) and the grants no request used; exits 1 when anything is denied or a
// request cannot be attributed to a principal or an IAM action.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { evaluateWithContext } from './simulate.mjs'
import { ACCOUNT, loadTemplate, Resolver } from './cfn.mjs'

const SUB_KEY = 'cognito-identity.amazonaws.com:sub'

export function parseRecords(text) {
  const stacks = new Map()
  const requests = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    const record = JSON.parse(line)
    if (record.stack) stacks.set(record.stackId, { label: record.label, ...record.stack })
    else requests.push(record)
  }
  return { stacks, requests }
}

export function readRecords(paths) {
  return parseRecords(paths.map((p) => readFileSync(p, 'utf8')).join('\n'))
}

const arnOf = (node) => {
  const v = node?.['Fn::GetAtt']
  return Array.isArray(v) ? v[0] : String(v).split('.')[0]
}

/** The template's view of one deployed stack: resolver, roles, name mapping. */
class StackView {
  constructor(template, stack) {
    this.template = template
    this.resolver = new Resolver(template, { parameters: stack.parameters ?? {} })
    const { resolver } = this
    this.names = new Map([[stack.account, ACCOUNT]])
    this.functionIds = new Map()
    for (const { logicalId, type, physicalId } of stack.resources ?? []) {
      if (!physicalId || !(logicalId in template.Resources)) continue
      const last = (s) => s.split(/[/:]/).pop()
      switch (type) {
        case 'AWS::S3::Bucket':
        case 'AWS::DynamoDB::Table':
          this.names.set(physicalId, resolver.refs[logicalId])
          break
        case 'AWS::SQS::Queue':
          this.names.set(last(physicalId), resolver.atts[`${logicalId}.QueueName`])
          break
        case 'AWS::SNS::Topic':
          this.names.set(last(physicalId), last(resolver.refs[logicalId]))
          break
        case 'AWS::Lambda::Function':
        case 'AWS::Serverless::Function':
          this.names.set(physicalId, resolver.refs[logicalId])
          this.functionIds.set(physicalId, logicalId)
          break
      }
    }
    const attachment = Object.values(template.Resources).find((r) => r.Type === 'AWS::Cognito::IdentityPoolRoleAttachment')
    this.webRoles = {
      true: arnOf(attachment.Properties.Roles.authenticated),
      false: arnOf(attachment.Properties.Roles.unauthenticated),
    }
    this.bucketPolicy = resolver.resolve(template.Resources.MediaBucketPolicy.Properties.PolicyDocument)
  }

  /** A local ARN in the resolver's names: every `:`/`/`-separated name the stack maps. */
  rename(resource) {
    return resource
      .split(/([:/])/)
      .map((token) => this.names.get(token) ?? token)
      .join('')
  }

  /** The role logical id of a recorded principal, or undefined. */
  role(principal) {
    if (principal.kind === 'web') return this.webRoles[Boolean(principal.authenticated)]
    if (principal.kind !== 'function') return undefined
    let id = this.functionIds.get(principal.function)
    if (!id) {
      id = Object.entries(this.template.Resources).find(
        ([logical, r]) => r.Type === 'AWS::Serverless::Function' && this.resolver.refs[logical] === principal.function,
      )?.[0]
    }
    const role = id && this.template.Resources[id]?.Properties?.Role
    return role ? arnOf(role) : undefined
  }

  rolePolicies(roleId) {
    const role = this.template.Resources[roleId]
    return this.resolver.resolve(role.Properties.Policies ?? []).map((p) => ({ name: `${roleId}/${p.PolicyName}`, policy: p.PolicyDocument }))
  }
}

function principalName(principal) {
  switch (principal.kind) {
    case 'function':
      return `function ${principal.function}`
    case 'web':
      return principal.authenticated ? 'web client, signed in' : 'web client, guest'
    case 'unknown':
      return `unknown (access key ${principal.accessKey})`
    default:
      return principal.kind
  }
}

// Calls anyone may make: the Cognito sign-in and identity APIs take no AWS credentials, and
// sts:GetCallerIdentity needs no permission.
const PUBLIC_SERVICES = new Set(['cognito-identity', 'cognito-idp'])

/** IAM's wildcard match: `*` any run of characters (`/` included), `?` one. */
function wildcard(pattern, value) {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(value)
}

/**
 * What a request needs: its recorded authorisations and, for a function's read of a missing
 * object (404), s3:ListBucket on the bucket: without it S3 answers 403 instead of 404
 * (GetObject / HeadObject API reference, "Permissions"), and the functions' not-found paths
 * depend on the 404. The web client has no such grant and takes a 403 for "missing" (client/src/api.ts).
 */
function needs(request) {
  const auths = [...request.authorizations]
  const read = ['GetObject', 'HeadObject'].includes(request.operation)
  if (request.principal.kind === 'function' && request.service === 's3' && request.status === 404 && read) {
    const object = auths.find((a) => a.action === 's3:GetObject')
    if (object) auths.push({ action: 's3:ListBucket', resource: object.resource.split('/')[0], context: {} })
  }
  return auths
}

export function replay({ stacks, requests }, { template = loadTemplate() } = {}) {
  const views = new Map()
  const view = (stackId) => {
    if (!views.has(stackId)) {
      const stack = stacks.get(stackId)
      views.set(stackId, stack ? new StackView(template, stack) : null)
    }
    return views.get(stackId)
  }
  const perPrincipal = new Map()
  const tally = (name) => {
    if (!perPrincipal.has(name)) perPrincipal.set(name, { requests: 0, distinct: new Set(), evaluated: 0, denied: 0 })
    return perPrincipal.get(name)
  }
  const problems = []
  const distinct = new Map()

  for (const request of requests) {
    const name = principalName(request.principal)
    const row = tally(name)
    row.requests += 1
    const where = `${request.operation} ${request.method} ${request.path} (${request.status}) by ${request.label}`
    if (request.principal.kind === 'harness') continue
    if (request.principal.kind === 'anonymous' && PUBLIC_SERVICES.has(request.service)) continue
    if (request.service === 'sts' && request.operation === 'GetCallerIdentity') continue
    const v = view(request.stackId)
    if (!v) {
      problems.push(`no stack line for ${request.stackId}: ${where}`)
      continue
    }
    const roleId = v.role(request.principal)
    if (!roleId) {
      problems.push(`no role for the principal ${name}: ${where}`)
      continue
    }
    if (request.authorizations.length === 0 && !PUBLIC_SERVICES.has(request.service)) {
      problems.push(`no IAM action known for ${request.service} ${where}`)
    }
    for (const auth of needs(request)) {
      if (auth.action.endsWith(':?')) {
        problems.push(`no IAM action known for ${request.service} ${where}`)
        continue
      }
      const sub = request.principal.kind === 'web' ? request.principal.identityId : undefined
      const resource = v.rename(auth.resource)
      const context = { 'aws:SecureTransport': 'true', ...auth.context }
      // A copy source names the local bucket ("bucket/key"): in the template's names too.
      if (typeof context['s3:x-amz-copy-source'] === 'string') context['s3:x-amz-copy-source'] = v.rename(context['s3:x-amz-copy-source'])
      if (sub) context[SUB_KEY] = sub
      const key = JSON.stringify([name, roleId, auth.action, resource, context])
      row.distinct.add(key)
      if (!distinct.has(key)) {
        distinct.set(key, { principal: name, roleId, sub, action: auth.action, resource, context, view: v, labels: new Set(), where })
      }
      distinct.get(key).labels.add(request.label)
    }
  }

  const denied = []
  const allowed = []
  for (const entry of distinct.values()) {
    const { view: v, roleId } = entry
    const roleName = v.resolver.refs[roleId]
    const result = evaluateWithContext({
      identityPolicies: v.rolePolicies(roleId),
      resourcePolicy: entry.action.startsWith('s3:') ? v.bucketPolicy : undefined,
      additionalSettings: { s3: { blockPublicAccess: true } },
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${entry.sub ?? 'session'}`,
        action: entry.action,
        resource: { resource: entry.resource, accountId: ACCOUNT },
        contextVariables: entry.context,
      },
    })
    const row = tally(entry.principal)
    row.evaluated += 1
    if (result === 'Allowed') allowed.push(entry)
    else {
      row.denied += 1
      denied.push({ ...entry, result })
    }
  }

  // Grants no allowed request used: per role, per Allow statement, action x resource.
  const unused = []
  const anyView = [...views.values()].find(Boolean) ?? new StackView(template, { resources: [] })
  const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id)
  for (const roleId of roles) {
    const used = allowed.filter((e) => e.roleId === roleId)
    for (const { policy } of anyView.rolePolicies(roleId)) {
      for (const st of policy.Statement) {
        if (st.Effect !== 'Allow') continue
        for (const action of [st.Action].flat()) {
          for (const pattern of [st.Resource].flat()) {
            const hit = used.some(
              (e) => wildcard(action, e.action) && wildcard(pattern.replaceAll(`\${${SUB_KEY}}`, e.sub ?? '\0'), e.resource),
            )
            if (!hit) unused.push({ role: roleId, sid: st.Sid, action, resource: pattern })
          }
        }
      }
    }
  }

  const perPrincipalRows = [...perPrincipal.entries()].map(([principal, r]) => ({
    principal,
    requests: r.requests,
    distinct: r.distinct.size,
    evaluated: r.evaluated,
    denied: r.denied,
  }))
  return { perPrincipal: perPrincipalRows, denied, unused, problems, evaluated: distinct.size }
}

const short = (resource) => resource.replace(/^arn:aws:s3:::[^/]+\//, '').replace(`:${ACCOUNT}:`, '::')

export function report(result) {
  const out = []
  const header = ['principal', 'requests', 'distinct', 'evaluated', 'denied']
  const rows = result.perPrincipal.map((r) => [r.principal, ...[r.requests, r.distinct, r.evaluated, r.denied].map(String)])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')
  out.push(line(header), ...rows.map(line), '')
  out.push(`distinct requests evaluated: ${result.evaluated}, denied: ${result.denied.length}`)
  for (const d of result.denied) {
    const ctx = Object.entries(d.context).filter(([k]) => k !== 'aws:SecureTransport').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')
    out.push(`DENIED (${d.result}) ${d.principal} [${d.roleId}]: ${d.action} ${short(d.resource)} ${ctx}`)
    out.push(`  request: ${d.where}`)
    out.push(`  made by: ${[...d.labels].sort().join(', ')}`)
  }
  for (const p of result.problems) out.push(`PROBLEM ${p}`)
  out.push('', `grants no request used: ${result.unused.length}`)
  for (const u of result.unused) out.push(`  ${u.role} ${u.sid}: ${u.action} ${short(u.resource)}`)
  return out.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  let template
  const t = args.indexOf('--template')
  if (t >= 0) template = loadTemplate(args.splice(t, 2)[1])
  const files = args.length ? args : (process.env.AWS_REQUEST_LOG ?? '').split(':').filter(Boolean)
  if (!files.length) {
    console.error('usage: node test/replay.mjs [--template T] FILE... (or AWS_REQUEST_LOG=FILE)')
    process.exit(2)
  }
  const records = readRecords(files)
  if (!records.requests.length) {
    console.error(`no recorded requests in ${files.join(', ')}`)
    process.exit(1)
  }
  const result = replay(records, { template })
  console.log(report(result))
  // A problem (unattributed request, unknown action) dedupes to its first line per kind.
  process.exit(result.denied.length || result.problems.length ? 1 : 0)
}
