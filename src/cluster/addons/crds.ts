// CustomResourceDefinitions taken from the pinned Go modules' own source (the secondary network's, the
// monitoring objects'), cached after the first read so a later `cluster up` needs neither Go nor the
// module cache.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../util/exec.js';
import { UserError } from '../../util/errors.js';
import { cacheDir } from '../../util/paths.js';
import { goModuleDir, readGoMod, requiredVersion } from '../../setup/versions.js';

/** A CRD by the tools/ module that pins its upstream module, the file inside that module and the CRD's name. */
export interface CrdSource {
  toolsModule: string;
  goModule: string;
  file: string;
  crd: string;
}

/**
 * Checks that an upstream YAML file holds exactly the one CustomResourceDefinition expected, and returns
 * it as is. It is applied as YAML by kubectl, whose (Go) parser is the one upstream writes these files
 * for: scheme.yml has quoted scalars that stricter YAML 1.2 parsers refuse.
 */
export function crdYaml(text: string, file: string, crd: string): string {
  const kinds = [...text.matchAll(/^kind:\s*(\S+)\s*$/gm)].map((m) => m[1]);
  if (kinds.length !== 1 || kinds[0] !== 'CustomResourceDefinition') {
    throw new Error(`${file}: expected one CustomResourceDefinition, found kinds ${kinds.join(', ') || 'none'}`);
  }
  if (!new RegExp(`^\\s+name:\\s*${crd.replaceAll('.', '\\.')}\\s*$`, 'm').test(text))
    throw new Error(`${file}: does not define ${crd}`);
  return text.replace(/^---\s*\n/, '');
}

/**
 * The CRD YAML from the pinned modules' own source, copied into the cache on first use (so a later
 * `up` needs neither Go nor the module cache). Modules are fetched with `go mod download`. Returns one
 * multi-document YAML stream and the CRD names.
 */
export async function crdsFromModules(sources: readonly CrdSource[]): Promise<{ yaml: string; names: string[] }> {
  const docs: string[] = [];
  for (const src of sources) {
    const version = requiredVersion(readGoMod(src.toolsModule), src.goModule);
    if (!version) throw new Error(`tools/${src.toolsModule}/go.mod does not require ${src.goModule}`);
    const cached = join(
      cacheDir(),
      'crds',
      `${src.goModule.replaceAll('/', '_')}@${version}`,
      src.file.replaceAll('/', '_'),
    );
    if (!existsSync(cached)) {
      const res = await run(process.env.KSTACK_GO ?? 'go', ['mod', 'download', '-json', `${src.goModule}@${version}`], {
        cwd: goModuleDir(src.toolsModule),
        env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
        allowFailure: true,
      });
      const dir = res.code === 0 ? (JSON.parse(res.stdout) as { Dir?: string }).Dir : undefined;
      if (!dir || !existsSync(join(dir, src.file))) {
        throw new UserError(
          `could not read ${src.file} from ${src.goModule}@${version} ('go mod ` +
            `download' in tools/${src.toolsModule}: ${res.stderr.trim() || 'no Dir'}); ` +
            `check that Go and the Go module proxy are reachable and run again`,
        );
      }
      mkdirSync(join(cached, '..'), { recursive: true });
      writeFileSync(cached, readFileSync(join(dir, src.file), 'utf8'));
    }
    docs.push(crdYaml(readFileSync(cached, 'utf8'), src.file, src.crd));
  }
  return { yaml: docs.join('\n---\n'), names: sources.map((s) => s.crd) };
}

/**
 * The two prometheus-operator CRDs the chart's monitoring objects use (PodMonitor, PrometheusRule), from
 * the operator's own source at the version tools/prometheus-operator/go.mod pins. kstack's local
 * monitoring reads these objects; on a cluster with the operator, the operator installs the same CRDs.
 */
export const MONITORING_CRD_SOURCES: readonly CrdSource[] = [
  {
    toolsModule: 'prometheus-operator',
    goModule: 'github.com/prometheus-operator/prometheus-operator',
    file: 'example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml',
    crd: 'podmonitors.monitoring.coreos.com',
  },
  {
    toolsModule: 'prometheus-operator',
    goModule: 'github.com/prometheus-operator/prometheus-operator',
    file: 'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml',
    crd: 'prometheusrules.monitoring.coreos.com',
  },
];
