// Browser-test steps that build on each other: after the first failure the rest are skipped,
// and `onFailure(name)` saves what helps (a screenshot of the failing screen).
import { test as nodeTest } from 'node:test';

export function dependentSteps(onFailure) {
  let failed = false;
  return function step(name, fn) {
    nodeTest(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (err) {
        failed = true;
        await onFailure(name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)).catch(() => {});
        throw err;
      }
    });
  };
}
