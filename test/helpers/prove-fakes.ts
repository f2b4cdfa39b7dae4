// For unit tests of the prove runner (named so: fakes of pure-logic tests). A Kube with no binaries
// behind it, which fake rows never call, and runProve with the chart's default intent and a release that
// is already settled, so no helm or kubectl runs.
import { Kube } from '../../src/kube/kube.js';
import { intentOf } from '../../src/prove/requirements/release.js';
import type { Requirement } from '../../src/prove/requirements/types.js';
import { runProve, type ProveReport, type RunProveOptions } from '../../src/prove/run.js';
import { silentProgress } from '../../src/util/progress.js';

export const fakeKube = new Kube({
  kubectl: '/nonexistent/kubectl',
  helm: '/nonexistent/helm',
  kubeArgs: [],
  helmArgs: [],
  namespace: 'ns',
});

export const runFake = (rows: Requirement[], more: Partial<RunProveOptions> = {}): Promise<ProveReport> =>
  runProve({
    rows,
    kube: fakeKube,
    namespace: 'ns',
    release: 'web',
    cluster: 'fake',
    reportDir: '/tmp',
    progress: silentProgress,
    intent: intentOf({}),
    settle: () => Promise.resolve(undefined),
    ...more,
  });
