import { spawn, type ChildProcess } from 'node:child_process';
import { UserError } from '../util/errors.js';

export interface PortForward {
  url: string;
  localPort: number;
  stop(): void;
}

/**
 * `kubectl port-forward` to a Service, on 127.0.0.1 and a free local port, kept running until stop().
 * Resolves once kubectl says it is forwarding.
 */
export function portForward(
  kubectl: string,
  kubeArgs: readonly string[],
  namespace: string,
  service: string,
  remotePort: number,
): Promise<PortForward> {
  return new Promise((resolvePromise, reject) => {
    const child: ChildProcess = spawn(
      kubectl,
      [...kubeArgs, '-n', namespace, 'port-forward', '--address', '127.0.0.1', `service/${service}`, `:${remotePort}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new UserError(`kubectl port-forward to ${service} did not start in 30 s: ${output.trim()}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        const localPort = Number(m[1]);
        resolvePromise({
          url: `http://127.0.0.1:${localPort}/`,
          localPort,
          stop: () => {
            child.kill('SIGTERM');
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new UserError(`kubectl port-forward to ${service} exited (${String(code)}): ${output.trim()}`));
    });
  });
}
