/** Environment variables the test runner hands to the test files. */
export const TEST_ENV = {
  /** Admin kubeconfig of the control plane shared by the integration tests. */
  kubeconfig: 'KSTACK_TEST_KUBECONFIG',
} as const;
