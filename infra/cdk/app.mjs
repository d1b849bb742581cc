// A CDK app that deploys infra/template.yaml, the stack's only description, whole: `cdk deploy`
// creates exactly what `sam deploy` creates. cloudformation-include's CfnInclude reads the SAM
// template as it is (the AWS::Serverless-2016-10-31 transform, Globals, the SAM resource
// types and the Rules are kept, and CloudFormation expands the transform at deployment, as for
// `sam deploy`); the only change is each function's CodeUri, made the S3 location of a CDK
// asset of infra/build/<function>/ (what `sam package` does with the same directories).
//
//   node app.mjs                      synthesizes into cdk.out/ (no CDK CLI needed)
//   npx cdk deploy --app 'node app.mjs' --parameters QueueRetrySeconds=0 ...
//
// Context (`cdk -c key=value`, or CDK_CONTEXT_JSON='{"key":"value"}' for `node app.mjs`): stackName (default media-sharing), buildDir
// (default ../build, filled by `make -C infra package`), outdir (default cdk.out). The
// template's parameters stay CloudFormation parameters: pass them at deployment
// (`cdk deploy --parameters Name=Value`); the template's own constraints and Rules apply.
import { dirname, join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { App, CfnResource, Stack } from 'aws-cdk-lib'
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include'
import { Asset } from 'aws-cdk-lib/aws-s3-assets'

const HERE = dirname(fileURLToPath(import.meta.url))
export const TEMPLATE = resolve(HERE, '..', 'template.yaml')

/** The included functions (SAM's CfnFunction) and the build directory each CodeUri names. */
export function functionsOf(included) {
  return included.node.children
    .filter((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::Serverless::Function')
    .map((fn) => {
      const m = /^build\/([a-z0-9-]+)\/$/.exec(fn.codeUri)
      if (!m) throw new Error(`${fn.logicalId}: CodeUri ${JSON.stringify(fn.codeUri)} is not build/<function>/`)
      return { fn, name: m[1] }
    })
}

/** Builds the app; returns it and the stack (app.synth() writes the cloud assembly). */
export function build({ outdir, buildDir, stackName, context } = {}) {
  const app = new App({ outdir: outdir ?? process.env.CDK_OUTDIR ?? join(HERE, 'cdk.out'), context })
  const name = stackName ?? app.node.tryGetContext('stackName') ?? 'media-sharing'
  const build = resolve(HERE, buildDir ?? app.node.tryGetContext('buildDir') ?? join('..', 'build'))
  // The stack name is the template's AWS::StackName (function and log group names derive from it).
  // No CDKMetadata resource (analytics): the stack holds the template's resources and nothing else.
  const stack = new Stack(app, 'MediaSharing', { stackName: name, analyticsReporting: false })
  const included = new CfnInclude(stack, 'Template', { templateFile: TEMPLATE })
  for (const { fn, name } of functionsOf(included)) {
    const dir = join(build, name)
    if (!existsSync(join(dir, 'bootstrap'))) {
      throw new Error(`${dir}/bootstrap is missing: run \`make -C infra package\` first (or pass -c buildDir=...)`)
    }
    const asset = new Asset(stack, `Code-${name}`, { path: dir })
    fn.codeUri = { bucket: asset.s3BucketName, key: asset.s3ObjectKey }
  }
  return { app, stack, included }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { app } = build()
  const assembly = app.synth()
  for (const s of assembly.stacks) process.stdout.write(`${s.stackName}: ${join(assembly.directory, s.templateFile)}\n`)
}
