// Loads infra/template.yaml (CloudFormation YAML with short-form intrinsic
// tags) and resolves the intrinsics the template uses, with made-up but
// realistic physical ids, so that the IAM policies can be evaluated exactly as
// CloudFormation would write them.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const TEMPLATE_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'template.yaml')

const INTRINSICS = [
  'Ref', 'GetAtt', 'Sub', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or',
  'Condition', 'FindInMap', 'GetAZs', 'ImportValue', 'Base64', 'Cidr', 'Length', 'ToJsonString',
]

function intrinsicKey(name) {
  if (name === 'Ref' || name === 'Condition') return name
  return `Fn::${name}`
}

const customTags = INTRINSICS.flatMap((name) => {
  const key = intrinsicKey(name)
  return [
    {
      tag: `!${name}`,
      resolve: (value) => ({ [key]: name === 'GetAtt' ? String(value).split('.') : value }),
    },
    { tag: `!${name}`, collection: 'seq', resolve: (seq) => ({ [key]: seq.toJSON() }) },
    { tag: `!${name}`, collection: 'map', resolve: (map) => ({ [key]: map.toJSON() }) },
  ]
})

export function loadTemplate(path = TEMPLATE_PATH) {
  return parse(readFileSync(path, 'utf8'), { customTags, merge: true, maxAliasCount: -1 })
}

export const ACCOUNT = '123456789012'
export const REGION = 'us-east-1'
export const STACK_NAME = 'media-sharing'
export const STACK_UUID = '4f1b6c7a-93d2-11ef-8f3a-0a1b2c3d4e5f'

/**
 * A resolver for one template: physical ids for every resource, the
 * attributes the template reads, and the parameters' defaults.
 */
export class Resolver {
  constructor(template, { parameters = {} } = {}) {
    this.template = template
    this.pseudo = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': STACK_NAME,
      'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/${STACK_UUID}`,
      'AWS::NoValue': undefined,
    }
    this.params = {}
    for (const [name, def] of Object.entries(template.Parameters ?? {})) {
      this.params[name] = parameters[name] ?? (def.Default === undefined ? undefined : String(def.Default))
    }
    this.refs = {}
    this.atts = {}
    for (const [id, res] of Object.entries(template.Resources)) this.#physical(id, res)
  }

  #physical(id, res) {
    const p = res.Properties ?? {}
    const generated = `${STACK_NAME}-${id}-1A2B3C4D5E6F`
    switch (res.Type) {
      case 'AWS::S3::Bucket': {
        const name = p.BucketName ? this.resolve(p.BucketName) : generated.toLowerCase()
        this.refs[id] = name
        this.atts[`${id}.Arn`] = `arn:aws:s3:::${name}`
        this.atts[`${id}.RegionalDomainName`] = `${name}.s3.${REGION}.amazonaws.com`
        break
      }
      case 'AWS::CloudFront::Distribution':
        this.refs[id] = 'E2QWRUHEXAMPLE'
        this.atts[`${id}.Id`] = 'E2QWRUHEXAMPLE'
        this.atts[`${id}.DomainName`] = 'd111111abcdef8.cloudfront.net'
        break
      case 'AWS::CloudFront::OriginAccessControl':
        this.refs[id] = 'E1OACEXAMPLE'
        this.atts[`${id}.Id`] = 'E1OACEXAMPLE'
        break
      case 'AWS::CloudFront::ResponseHeadersPolicy':
        this.refs[id] = '0b8a2c1d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'
        this.atts[`${id}.Id`] = this.refs[id]
        break
      case 'AWS::DynamoDB::Table': {
        const name = p.TableName ? this.resolve(p.TableName) : generated
        const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`
        this.refs[id] = name
        this.atts[`${id}.Arn`] = arn
        this.atts[`${id}.StreamArn`] = `${arn}/stream/2026-01-01T00:00:00.000`
        break
      }
      case 'AWS::SQS::Queue': {
        this.refs[id] = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${generated}`
        this.atts[`${id}.Arn`] = `arn:aws:sqs:${REGION}:${ACCOUNT}:${generated}`
        this.atts[`${id}.QueueName`] = generated
        break
      }
      case 'AWS::SNS::Topic':
        this.refs[id] = `arn:aws:sns:${REGION}:${ACCOUNT}:${generated}`
        break
      case 'AWS::Logs::LogGroup': {
        const name = p.LogGroupName ? this.resolve(p.LogGroupName) : generated
        this.refs[id] = name
        this.atts[`${id}.Arn`] = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`
        break
      }
      case 'AWS::IAM::Role':
        this.refs[id] = generated
        this.atts[`${id}.Arn`] = `arn:aws:iam::${ACCOUNT}:role/${generated}`
        break
      case 'AWS::Serverless::Function': {
        const name = p.FunctionName ? this.resolve(p.FunctionName) : generated
        this.refs[id] = name
        this.atts[`${id}.Arn`] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`
        break
      }
      case 'AWS::Cognito::UserPool':
        this.refs[id] = `${REGION}_AbCdEfGhI`
        this.atts[`${id}.ProviderName`] = `cognito-idp.${REGION}.amazonaws.com/${REGION}_AbCdEfGhI`
        this.atts[`${id}.Arn`] = `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_AbCdEfGhI`
        break
      case 'AWS::Cognito::UserPoolClient':
        this.refs[id] = '1example23456789abcdefghij'
        break
      case 'AWS::Cognito::IdentityPool':
        this.refs[id] = `${REGION}:0f0e0d0c-0b0a-0908-0706-050403020100`
        break
      default:
        this.refs[id] = generated
    }
  }

  ref(name) {
    if (name in this.pseudo) return this.pseudo[name]
    if (name in this.params) {
      if (this.params[name] === undefined) throw new Error(`parameter ${name} has no value`)
      return this.params[name]
    }
    if (name in this.refs) return this.refs[name]
    throw new Error(`unresolvable Ref ${name}`)
  }

  getAtt(resource, attribute) {
    const key = `${resource}.${attribute}`
    if (key in this.atts) return this.atts[key]
    throw new Error(`unresolvable GetAtt ${key}`)
  }

  condition(name) {
    const def = this.template.Conditions?.[name]
    if (def === undefined) throw new Error(`unknown condition ${name}`)
    return this.resolve(def)
  }

  sub(text, vars = {}) {
    return text.replace(/\$\{([^}]*)\}/g, (whole, inner) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`
      if (inner in vars) return String(vars[inner])
      if (inner.includes('.') && !inner.startsWith('AWS::')) {
        const [res, ...rest] = inner.split('.')
        return this.getAtt(res, rest.join('.'))
      }
      return String(this.ref(inner))
    })
  }

  resolve(node) {
    if (Array.isArray(node)) {
      return node.map((n) => this.resolve(n)).filter((n) => n !== undefined)
    }
    if (node === null || typeof node !== 'object') return node
    const keys = Object.keys(node)
    if (keys.length === 1) {
      const [k] = keys
      const v = node[k]
      switch (k) {
        case 'Ref':
          return this.ref(v)
        case 'Fn::GetAtt': {
          const [res, ...attr] = Array.isArray(v) ? v : String(v).split('.')
          return this.getAtt(res, attr.join('.'))
        }
        case 'Fn::Sub': {
          if (typeof v === 'string') return this.sub(v)
          const [text, vars] = v
          const resolved = Object.fromEntries(
            Object.entries(vars ?? {}).map(([name, expr]) => [name, this.resolve(expr)]),
          )
          return this.sub(text, resolved)
        }
        case 'Fn::Join': {
          const [sep, items] = v
          return this.resolve(items).join(sep)
        }
        case 'Fn::Select': {
          const [index, items] = v
          return this.resolve(items)[Number(this.resolve(index))]
        }
        case 'Fn::Split': {
          const [sep, text] = v
          return String(this.resolve(text)).split(sep)
        }
        case 'Fn::If': {
          const [cond, yes, no] = v
          return this.condition(cond) ? this.resolve(yes) : this.resolve(no)
        }
        case 'Fn::Equals': {
          const [a, b] = v.map((x) => this.resolve(x))
          return String(a) === String(b)
        }
        case 'Fn::Not':
          return !this.resolve(v[0])
        case 'Fn::And':
          return v.every((x) => this.resolve(x))
        case 'Fn::Or':
          return v.some((x) => this.resolve(x))
        case 'Condition':
          return this.condition(v)
        default:
          if (k.startsWith('Fn::')) throw new Error(`intrinsic ${k} not supported by the test resolver`)
      }
    }
    const out = {}
    for (const [k, v] of Object.entries(node)) {
      const r = this.resolve(v)
      if (r !== undefined) out[k] = r
    }
    return out
  }
}

/**
 * The checks CloudFormation makes on parameter values before it creates or updates a stack
 * ("Parameters" and "Rules" in the CloudFormation user guide): the value's type, MinValue /
 * MaxValue, MinLength / MaxLength, AllowedValues, AllowedPattern (the whole value), then every
 * rule whose RuleCondition holds, each Assert with the rule functions. `values` are the
 * parameters passed (strings, as the API takes them); the others take their Default.
 * Returns the refusals, [] when CloudFormation would go ahead.
 */
export function parameterErrors(template, values = {}) {
  const defs = template.Parameters ?? {}
  const errors = []
  const params = {}
  for (const name of Object.keys(values)) {
    if (!(name in defs)) errors.push(`${name}: not a parameter of the template`)
  }
  for (const [name, def] of Object.entries(defs)) {
    const given = name in values ? values[name] : def.Default
    if (given === undefined) {
      errors.push(`${name}: no value and no default`)
      continue
    }
    const value = String(given)
    params[name] = value
    if (def.Type === 'Number') {
      if (!/^-?(\d+\.?\d*|\.\d+)$/.test(value)) errors.push(`${name}: ${value} is not a number`)
      else {
        if (def.MinValue !== undefined && Number(value) < Number(def.MinValue)) errors.push(`${name}: ${value} < MinValue ${def.MinValue}`)
        if (def.MaxValue !== undefined && Number(value) > Number(def.MaxValue)) errors.push(`${name}: ${value} > MaxValue ${def.MaxValue}`)
      }
    }
    if (def.MinLength !== undefined && value.length < def.MinLength) errors.push(`${name}: shorter than MinLength ${def.MinLength}`)
    if (def.MaxLength !== undefined && value.length > def.MaxLength) errors.push(`${name}: longer than MaxLength ${def.MaxLength}`)
    if (def.AllowedValues && !def.AllowedValues.map(String).includes(value)) errors.push(`${name}: ${value} not in AllowedValues`)
    if (def.AllowedPattern !== undefined) {
      const m = new RegExp(def.AllowedPattern).exec(value)
      if (!m || m[0] !== value) errors.push(`${name}: ${JSON.stringify(value)} does not match AllowedPattern`)
    }
  }
  if (errors.length) return errors
  const strings = (v, fn) => {
    if (!Array.isArray(v)) throw new Error(`${fn} takes a list`)
    return v.map(String)
  }
  const ev = (node) => {
    if (Array.isArray(node)) return node.map(ev)
    if (node === null || typeof node !== 'object') return node
    const [[fn, args]] = Object.entries(node)
    switch (fn) {
      case 'Ref':
        if (!(args in params)) throw new Error(`Rules: Ref ${args} is not a parameter`)
        return params[args]
      case 'Fn::Equals': return String(ev(args[0])) === String(ev(args[1]))
      case 'Fn::Not': return !ev(args[0])
      case 'Fn::And': return args.every(ev)
      case 'Fn::Or': return args.some(ev)
      case 'Fn::Contains': return strings(ev(args[0]), fn).includes(String(ev(args[1])))
      case 'Fn::EachMemberEquals': return strings(ev(args[0]), fn).every((m) => m === String(ev(args[1])))
      case 'Fn::EachMemberIn': {
        const allowed = strings(ev(args[1]), fn)
        return strings(ev(args[0]), fn).every((m) => allowed.includes(m))
      }
      default: throw new Error(`Rules: ${fn} is not a rule function`)
    }
  }
  for (const [name, rule] of Object.entries(template.Rules ?? {})) {
    if (rule.RuleCondition !== undefined && ev(rule.RuleCondition) !== true) continue
    for (const a of rule.Assertions) {
      if (ev(a.Assert) !== true) errors.push(`rule ${name}: ${a.AssertDescription ?? 'assertion failed'}`)
    }
  }
  return errors
}
