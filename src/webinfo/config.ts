// The companion's settings from its environment.
//   WEBINFO_HOST (127.0.0.1), WEBINFO_PORT (8081), WEBINFO_PAGE_DIR (/var/lib/kstack/page),
//   WEBINFO_REGION (the chart's region.name; empty: no region).

export interface WebinfoConfig {
  host: string;
  port: number;
  pageDir: string;
  /** The region this release serves, e.g. "east"; null when none is set. */
  region: string | null;
}

/** A region name is a DNS label, as the chart's schema asks for region.name. */
export const REGION_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** WEBINFO_REGION: null when empty; a name that is not a DNS label is an error naming the variable. */
export function regionFromEnv(env: NodeJS.ProcessEnv): string | null {
  const region = env.WEBINFO_REGION?.trim() ?? '';
  if (region === '') return null;
  if (!REGION_PATTERN.test(region)) {
    throw new Error(
      `WEBINFO_REGION='${region}' is not a region name: use a DNS label (a-z, 0-9 and -, at most 63, e.g. east)`,
    );
  }
  return region;
}

/** The listening address, page folder and region; a bad port or region is an error naming the variable. */
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
    region: regionFromEnv(env),
  };
}
