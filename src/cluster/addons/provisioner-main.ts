// Entry point of the local-path provisioner daemon that `kstack cluster up` starts on the host:
//   node provisioner-main.js <kubeconfig> <volumes folder>
import * as k8s from '@kubernetes/client-node';
import { Wakeup, watchForChanges } from '../../kube/change-watch.js';
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
// Reconciles when a claim or a volume changes (watches), and every 30 s in case a re-opened watch missed one.
const changed = new Wakeup();
watchForChanges(kc, ['/api/v1/persistentvolumeclaims', '/api/v1/persistentvolumes'], changed, log, stop.signal);
while (!stop.signal.aborted) {
  let waitMs = 30_000;
  try {
    await reconcileOnce({ core, volumesRoot, log });
  } catch (err) {
    log(`reconcile failed (will retry): ${err instanceof Error ? err.message : String(err)}`);
    waitMs = 1000;
  }
  await changed.wait(waitMs, stop.signal);
}
log('stopped');
