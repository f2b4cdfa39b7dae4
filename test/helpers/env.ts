/** Environment variables the test runner hands to the test files. */
export const TEST_ENV = {
  /** Admin kubeconfig of the control plane shared by the integration tests. */
  kubeconfig: 'KSTACK_TEST_KUBECONFIG',
  /** Name of the local cluster an e2e group shares (test/runner/groups.ts); unset when a file runs alone. */
  e2eCluster: 'KSTACK_E2E_CLUSTER',
  /** The state folder of that cluster. */
  e2eBaseDir: 'KSTACK_E2E_BASEDIR',
} as const;
