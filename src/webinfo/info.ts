// The JSON document behind /api/info: who this pod is (downward API, and the serving-host the init
// container wrote next to the page) and what the data source reported. Pure, apart from readPageFacts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataReport } from './data-source.js';

export interface PodIdentity {
  name: string;
  namespace: string;
  ip: string;
  node: string;
}

export interface Info {
  pod: PodIdentity;
  /** The region this release serves (the chart's region.name); null when none is set. */
  region: string | null;
  /** As rendered by the init container; null when the page has not been rendered (yet). */
  servingHost: string | null;
  renderedAt: string | null;
  time: string;
  data: DataReport;
}

/** The pod's identity from the downward API variables; missing ones read "unknown" rather than failing. */
export function podIdentityFromEnv(env: NodeJS.ProcessEnv): PodIdentity {
  const get = (key: string): string => env[key]?.trim() || 'unknown';
  return { name: get('POD_NAME'), namespace: get('POD_NAMESPACE'), ip: get('POD_IP'), node: get('NODE_NAME') };
}

export interface PageFacts {
  servingHost: string | null;
  renderedAt: string | null;
}

/** Parses pod.json written by render-page.sh; anything unexpected yields nulls, never a throw. */
export function parsePageFacts(text: string): PageFacts {
  try {
    const doc = JSON.parse(text) as { servingHost?: unknown; renderedAt?: unknown };
    return {
      servingHost: typeof doc.servingHost === 'string' ? doc.servingHost : null,
      renderedAt: typeof doc.renderedAt === 'string' ? doc.renderedAt : null,
    };
  } catch {
    return { servingHost: null, renderedAt: null };
  }
}

export function readPageFacts(pageDir: string): PageFacts {
  try {
    return parsePageFacts(readFileSync(join(pageDir, 'pod.json'), 'utf8'));
  } catch {
    return { servingHost: null, renderedAt: null };
  }
}

export function buildInfo(
  pod: PodIdentity,
  facts: PageFacts,
  data: DataReport,
  now: Date,
  region: string | null = null,
): Info {
  return {
    pod,
    region,
    servingHost: facts.servingHost,
    renderedAt: facts.renderedAt,
    time: now.toISOString(),
    data,
  };
}
