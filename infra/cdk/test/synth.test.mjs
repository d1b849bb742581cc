// Synthesizes the CDK app (no CDK CLI, nothing downloaded) and checks that the stack it would
// deploy is infra/template.yaml: the same sections, parameters, rules, conditions, resources
// (logical ids, types and properties) and outputs, the SAM transform kept for CloudFormation to
// expand, and each function's CodeUri the S3 location of a CDK asset of its build directory.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from '../app.mjs'
import { loadTemplate, parameterErrors } from '../../test/cfn.mjs'

const FUNCTIONS = ['content-updated', 'face-detection', 'update-content-index', 'purge-bucket', 'repair', 'migrate-user']
const work = mkdtempSync(join(tmpdir(), 'cdk-synth-'))
const buildDir = join(work, 'build')
for (const f of FUNCTIONS) {
  mkdirSync(join(buildDir, f), { recursive: true })
  // Distinct contents: distinct assets.
  writeFileSync(join(buildDir, f, 'bootstrap'), `#!/bin/sh\n# ${f}\n`, { mode: 0o755 })
}
const { app } = build({ outdir: join(work, 'cdk.out'), buildDir, stackName: 'media-sharing' })
const assembly = app.synth()
const [stack] = assembly.stacks
const synthesized = JSON.parse(readFileSync(join(assembly.directory, stack.templateFile), 'utf8'))
const assets = JSON.parse(readFileSync(join(assembly.directory, `${stack.id}.assets.json`), 'utf8'))
const template = loadTemplate()
process.on('exit', () => rmSync(work, { recursive: true, force: true }))

// What the CDK's default synthesizer adds for its assets: the bootstrap version check.
const SYNTHESIZER = { Parameters: ['BootstrapVersion'], Rules: ['CheckBootstrapVersion'] }
// CfnInclude keeps a `!GetAtt A.B` inside untyped JSON properties (policy documents) as the
// string form "A.B", which CloudFormation reads as [A, B]; compare them as the same.
const normal = (node) => {
  if (Array.isArray(node)) return node.map(normal)
  if (node === null || typeof node !== 'object') return node
  const out = {}
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === 'Fn::GetAtt' && typeof v === 'string' ? v.split(/\.(.*)/s).slice(0, 2) : normal(v)
  }
  return out
}
const without = (section, names) => Object.fromEntries(Object.entries(section ?? {}).filter(([k]) => !names.includes(k)))

test('one stack, named as the SAM stack', () => {
  assert.equal(assembly.stacks.length, 1)
  assert.equal(stack.stackName, 'media-sharing')
})

test('the SAM transform and Globals are kept: CloudFormation expands them at deployment, as for sam deploy', () => {
  assert.equal(synthesized.Transform, 'AWS::Serverless-2016-10-31')
  assert.deepEqual(synthesized.Globals, template.Globals)
  assert.equal(synthesized.Description, template.Description)
  assert.deepEqual(Object.keys(synthesized).sort(), Object.keys(template).sort())
})

test('the same resources: logical ids, types, properties and attributes (CodeUri aside)', () => {
  const types = (t) => Object.fromEntries(Object.entries(t.Resources).map(([id, r]) => [id, r.Type]))
  assert.deepEqual(types(synthesized), types(template))
  for (const [id, r] of Object.entries(template.Resources)) {
    const s = synthesized.Resources[id]
    const strip = (res) => {
      const copy = structuredClone(res)
      if (copy.Type === 'AWS::Serverless::Function') delete copy.Properties.CodeUri
      // CfnInclude writes DependsOn as a list.
      if (typeof copy.DependsOn === 'string') copy.DependsOn = [copy.DependsOn]
      return copy
    }
    assert.deepEqual(normal(strip(s)), normal(strip(r)), id)
  }
})

test('the same parameters, conditions, rules and outputs (plus the bootstrap version check)', () => {
  assert.deepEqual(without(synthesized.Parameters, SYNTHESIZER.Parameters), template.Parameters)
  assert.deepEqual(synthesized.Conditions, template.Conditions)
  assert.deepEqual(without(synthesized.Rules, SYNTHESIZER.Rules), template.Rules)
  assert.deepEqual(synthesized.Outputs, template.Outputs)
  // The template's constraints still refuse what they refused.
  const parameters = without(synthesized.Parameters, SYNTHESIZER.Parameters)
  const t = { Parameters: parameters, Rules: without(synthesized.Rules, SYNTHESIZER.Rules) }
  assert.deepEqual(parameterErrors(t), [])
  assert.ok(parameterErrors(t, { QueueRetrySeconds: '60' }).length > 0)
})

test("each function's CodeUri is its own CDK asset of infra/build/<function>/", () => {
  const files = assets.files
  const keys = new Set()
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Serverless::Function') continue
    const name = /^build\/(.+)\/$/.exec(r.Properties.CodeUri)[1]
    const uri = synthesized.Resources[id].Properties.CodeUri
    assert.deepEqual(Object.keys(uri).sort(), ['Bucket', 'Key'], id)
    assert.deepEqual(uri.Bucket, { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }, id)
    const hash = uri.Key.replace(/\.zip$/, '')
    const asset = files[hash]
    assert.ok(asset, `${id}: ${uri.Key} is an asset of the stack`)
    assert.equal(asset.source.packaging, 'zip', id)
    assert.equal(readFileSync(join(assembly.directory, asset.source.path, 'bootstrap'), 'utf8'), `#!/bin/sh\n# ${name}\n`, `${id} packages build/${name}/`)
    keys.add(uri.Key)
  }
  assert.equal(keys.size, FUNCTIONS.length, 'one asset per function')
})

test('a missing build directory is a clear error, not an empty package', () => {
  assert.throws(() => build({ outdir: join(work, 'missing.out'), buildDir: join(work, 'nowhere') }), /bootstrap is missing: run `make -C infra package`/)
})

// The synthesized template through the same offline checks as template.yaml: cfn-lint, and
// sam validate, which expands the SAM transform (CodeUri as an S3 location included). `make -C
// infra test` passes both tools; run alone, the test is skipped.
test('cfn-lint and sam validate (the transform expands) accept the synthesized template', { skip: !process.env.CFN_LINT || !process.env.SAM ? 'CFN_LINT and SAM not set (make -C infra test sets them)' : false }, () => {
  const file = join(assembly.directory, stack.templateFile)
  execFileSync(process.env.CFN_LINT, ['--regions', 'us-east-1', '--', file], { stdio: 'pipe' })
  const out = execFileSync(process.env.SAM, ['validate', '--lint', '--region', 'us-east-1', '--template-file', file], { cwd: assembly.directory, stdio: 'pipe' })
  assert.match(String(out), /is a valid SAM Template/)
})
