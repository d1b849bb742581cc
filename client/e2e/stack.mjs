// Finds or starts the stack the browser tests run against.
//   STACK_JSON=path  -> use an already running devstack (its stack.json)
//   otherwise        -> start `devstack up` on free ports in a temp state dir
//                       (binary: DEVSTACK_BIN, default $CARGO_TARGET_DIR/release/devstack,
//                       CARGO_TARGET_DIR defaulting to ~/.cache/media-share/target)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Template parameters of the browser tests' stack: small indexes, so a few uploads make
 * pages (docs/indexes.md).
 */
export const INDEX_PARAMETERS = { PublicIndexLimit: 4, PrivateIndexHeadLimit: 4, IndexPageSize: 3, IndexVolumeSize: 2 };

export const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const artifactsDir = path.join(clientDir, 'e2e', 'artifacts');

function devstackBin() {
  if (process.env.DEVSTACK_BIN) return process.env.DEVSTACK_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'media-share', 'target');
  return path.join(target, 'release', 'devstack');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startStack({ timeoutMs = 240_000 } = {}) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  if (process.env.STACK_JSON) {
    const stack = JSON.parse(fs.readFileSync(process.env.STACK_JSON, 'utf8'));
    return { stack, stop: async () => {} };
  }
  const bin = devstackBin();
  if (!fs.existsSync(bin)) {
    throw new Error(`devstack binary not found at ${bin}: build it (make build: cargo build --release --workspace --all-targets), set DEVSTACK_BIN, or point STACK_JSON at a running stack`);
  }
  const dist = path.join(clientDir, 'dist');
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`no client build in ${dist}: run make -C client build`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-share-e2e-'));
  const log = fs.openSync(path.join(artifactsDir, 'devstack.log'), 'w');
  // Small index heads and pages, so a few dozen uploads make several pages to scroll through.
  const parameters = Object.entries(INDEX_PARAMETERS).flatMap(([name, value]) => ['--parameter', `${name}=${value}`]);
  const child = spawn(bin, ['up', '--state-dir', stateDir, '--port', '0', '--client-port', '0', '--client-dir', dist, ...parameters], {
    stdio: ['ignore', log, log],
    // The label of the AWS requests this stack records: the test file that started it.
    env: { DEVSTACK_LABEL: `client/e2e/${path.basename(process.argv[1] ?? 'browser')}`, ...process.env },
  });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const stackFile = path.join(stateDir, 'stack.json');
  const deadline = Date.now() + timeoutMs;
  let stack;
  while (!stack) {
    if (exited) throw new Error(`devstack exited early (${JSON.stringify(exited)}); see e2e/artifacts/devstack.log`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('devstack did not write stack.json in time; see e2e/artifacts/devstack.log');
    }
    try {
      const parsed = JSON.parse(fs.readFileSync(stackFile, 'utf8'));
      if (parsed.clientUrl) stack = parsed;
    } catch { /* not yet (or half written) */ }
    if (!stack) await sleep(250);
  }
  const stop = async () => {
    if (!exited) {
      child.kill('SIGINT');
      for (let i = 0; i < 100 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    }
    fs.closeSync(log);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  return { stack, stop };
}
