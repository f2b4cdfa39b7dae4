// Where the page's "Live data" comes from. The companion knows nothing about databases: a data source is
// plugged in by name (WEBINFO_DATA_SOURCE) and answers with a report the page can show as it is.

/** What a data source says about itself and what it read. `message` is shown on the page as it is. */
export interface DataReport {
  /** The data source's name, e.g. "none" or "mariadb". */
  source: string;
  /** False while nothing is configured: the page says so plainly instead of showing an error. */
  configured: boolean;
  /** True when the data was read just now. */
  ok: boolean;
  message: string;
  /** Flat name → value pairs the page lists (e.g. a row count, the server's hostname). */
  values?: Record<string, string | number | boolean | null>;
}

export interface DataSource {
  readonly name: string;
  /** Reads live data. Must not throw for expected failures: report them with ok=false. */
  read(signal: AbortSignal): Promise<DataReport>;
  close?(): Promise<void>;
}

/** Builds a data source from the environment (connection settings, credentials from mounted Secrets). */
export type DataSourceFactory = (env: NodeJS.ProcessEnv) => DataSource;

/** The data source of a pod with no database configured. */
export const noDataSource: DataSource = {
  name: 'none',
  read: () =>
    Promise.resolve({
      source: 'none',
      configured: false,
      ok: false,
      message: 'No database is configured for this release yet, so there is no live data to show.',
    }),
};

const factories = new Map<string, DataSourceFactory>([['none', () => noDataSource]]);

/** Makes a data source available under `name` (the database work registers "mariadb" here). */
export function registerDataSource(name: string, factory: DataSourceFactory): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new Error(`data source name '${name}' must be lowercase letters, digits and dashes`);
  factories.set(name, factory);
}

export function dataSourceNames(): string[] {
  return [...factories.keys()].sort();
}

/** The data source named by WEBINFO_DATA_SOURCE (default "none"); an unknown name is an error naming the choices. */
export function dataSourceFromEnv(env: NodeJS.ProcessEnv): DataSource {
  const name = env.WEBINFO_DATA_SOURCE?.trim() || 'none';
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(
      `WEBINFO_DATA_SOURCE='${name}' is not a known data source; use one of: ${dataSourceNames().join(', ')}`,
    );
  }
  return factory(env);
}

/** Runs `source.read` with a time limit, turning a throw or a timeout into a report the page can show. */
export async function readWithin(source: DataSource, timeoutMs: number): Promise<DataReport> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DataReport>((resolvePromise) => {
    timer = setTimeout(() => {
      controller.abort();
      resolvePromise({
        source: source.name,
        configured: true,
        ok: false,
        message: `the ${source.name} data source did not answer within ${timeoutMs} ms`,
      });
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      source.read(controller.signal).catch((err: unknown): DataReport => ({
        source: source.name,
        configured: true,
        ok: false,
        message: `the ${source.name} data source failed: ${err instanceof Error ? err.message : String(err)}`,
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
