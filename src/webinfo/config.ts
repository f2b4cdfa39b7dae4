// The companion's settings from its environment.
//   WEBINFO_HOST (127.0.0.1), WEBINFO_PORT (8081), WEBINFO_PAGE_DIR (/var/lib/kstack/page).

export interface WebinfoConfig {
  host: string;
  port: number;
  pageDir: string;
}

/** The listening address and page folder; a bad port is an error naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv): WebinfoConfig {
  const rawPort = env.WEBINFO_PORT?.trim() || '8081';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) {
    throw new Error(`WEBINFO_PORT='${rawPort}' is not a port number (1-65535)`);
  }
  return {
    host: env.WEBINFO_HOST?.trim() || '127.0.0.1',
    port,
    pageDir: env.WEBINFO_PAGE_DIR?.trim() || '/var/lib/kstack/page',
  };
}
