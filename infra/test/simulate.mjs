// iam-simulate's validated entry point (runSimulation) drops request context
// keys that the service authorisation reference does not list for the action,
// and cognito-identity.amazonaws.com:sub is one of them; its unvalidated entry
// point (runUnsafeSimulation, 0.1.173) crashes on resource policies loaded
// without a name. This is runUnsafeSimulation with that fixed: the same core
// engine (`authorize`), every context key kept. The tests call runSimulation
// first, so policies, actions, resources and context keys are still validated.
import { loadPolicy } from '@cloud-copilot/iam-policy'
// Deep imports by path (the package's export map exposes only its index); the
// version is pinned in package-lock.json.
import { authorize } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js'
import { DiscoveryContextKeyConstraints } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js'
import { AwsRequestImpl } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js'
import { RequestContextImpl } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js'

/** @returns 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' */
export function evaluateWithContext(simulation) {
  const { request } = simulation
  const analysis = authorize({
    request: new AwsRequestImpl(
      request.principal,
      { resource: request.resource.resource, accountId: request.resource.accountId },
      request.action,
      new RequestContextImpl(request.contextVariables),
      request.resource.resource === '*',
    ),
    sessionPolicy: undefined,
    identityPolicies: simulation.identityPolicies.map((p) => loadPolicy(p.policy, { name: p.name })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: simulation.resourcePolicy
      ? loadPolicy(simulation.resourcePolicy, { name: 'bucket-policy' })
      : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
    },
    serviceSettings: { s3: { blockPublicAccess: simulation.additionalSettings?.s3?.blockPublicAccess } },
  })
  return analysis.result
}
