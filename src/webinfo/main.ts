// Entry point of the webinfo companion: node dist/src/webinfo/main.js (in the web pods, next to nginx).
// Settings: see config.ts (WEBINFO_REGION names the region); WEBINFO_DATA_SOURCE (none) picks the data
// source; POD_NAME, POD_IP, NODE_NAME and POD_NAMESPACE come from the downward API. Logs are JSON lines on stdout.
import { configFromEnv } from './config.js';
import { dataSourceFromEnv } from './data-source.js';
import { podIdentityFromEnv } from './info.js';
import { startWebinfo } from './server.js';
// Registers the 'mariadb' data source (WEBINFO_DATA_SOURCE=mariadb), which the chart sets when db is on.
import './db-source.js';

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const dataSource = dataSourceFromEnv(process.env);
  const running = await startWebinfo({ ...config, pod: podIdentityFromEnv(process.env), dataSource });
  console.log(
    JSON.stringify({
      msg: 'webinfo listening',
      host: config.host,
      port: running.port,
      region: config.region,
      dataSource: dataSource.name,
    }),
  );
  const stop = (signal: string): void => {
    console.log(JSON.stringify({ msg: 'webinfo stopping', signal }));
    void running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({ msg: 'webinfo failed to start', error: err instanceof Error ? err.message : String(err) }),
  );
  process.exit(1);
});
