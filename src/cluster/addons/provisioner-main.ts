// Entry point of the local-path provisioner daemon that `kstack cluster up` starts on the host:
//   node provisioner-main.js <kubeconfig> <volumes folder>
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { reconcileOnce } from './local-path.js';

const [kubeconfig, volumesRoot] = process.argv.slice(2);
if (!kubeconfig || !volumesRoot) {
  process.stderr.write('usage: provisioner-main <kubeconfig> <volumes folder>\n');
  process.exit(2);
}
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};
const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    stop.abort();
  });
log(`local-path provisioner: volumes under ${volumesRoot}`);
// Polling once a second is plenty for a local cluster and cannot miss an event.
while (!stop.signal.aborted) {
  try {
    await reconcileOnce({ core, volumesRoot, log });
  } catch (err) {
    log(`reconcile failed (will retry): ${err instanceof Error ? err.message : String(err)}`);
  }
  await sleep(1000, undefined, { signal: stop.signal }).catch(() => undefined);
}
log('stopped');
