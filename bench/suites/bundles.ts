import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { bundlingOptions } from '../../lib/constructs/scoring-functions.js';
import { loadScoringModel } from '../../lib/scoring-model.js';
import type { BenchContext, Figure, SuiteReport } from '../context.js';
import { median } from '../stats.js';

export const description =
  'Lambda bundles: minified size as CDK builds them and time to load each in Node.';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HANDLERS = ['ingest', 'leads', 'recycle', 'sweep'] as const;
const LOADS = 7;
const MAX_BYTES = 300 * 1024;
const MAX_LOAD_MS = 150;

/**
 * Builds one handler with the options of lib/constructs/scoring-functions.ts
 * (esbuild, CommonJS, minified, source map beside it, @aws-sdk/* left to
 * the runtime) and the platform and target NodejsFunction adds.
 */
async function bundle(handler: string, modelJson: string, outDir: string) {
  const options = bundlingOptions(modelJson);
  const outfile = join(outDir, handler, 'index.js');
  const result = await build({
    entryPoints: [join(ROOT, 'functions/handlers', `${handler}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: options.minify,
    sourcemap: options.sourceMap,
    define: options.define,
    external: options.externalModules,
    metafile: true,
    logLevel: 'error',
  });
  const { size } = await stat(outfile);
  return { outfile, size, metafile: result.metafile };
}

/**
 * Loads a module in a fresh Node process `LOADS` times and returns the
 * median milliseconds `require` took. Packages left external resolve from
 * the repository's node_modules, as Lambda resolves them from its runtime.
 */
function loadMs(file: string): number {
  const script =
    'const start = performance.now();' +
    `require(${JSON.stringify(file)});` +
    'process.stdout.write(String(performance.now() - start));';
  const times: number[] = [];
  for (let run = 0; run < LOADS; run += 1) {
    const child = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      encoding: 'utf8',
    });
    if (child.status !== 0) {
      throw new Error(`Loading ${file} failed: ${child.stderr.slice(0, 500)}`);
    }
    times.push(Number(child.stdout));
  }
  return median(times);
}

/** Returns the largest packages in a bundle as "name (KB)". */
function largestInputs(metafile: Metafile, count: number): string {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = path.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
      const name = match?.[1] ?? 'mql-engine sources';
      bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, size]) => `${name} (${Math.round(size / 1024)} KB)`)
    .join(', ');
}

export async function run(context: BenchContext): Promise<SuiteReport> {
  const outDir = await mkdtemp(join(tmpdir(), 'mql-bundles-'));
  try {
    const model = loadScoringModel(
      join(ROOT, 'models/procurement-software.json'),
    );
    const emptyModule = join(outDir, 'empty.js');
    await writeFile(emptyModule, '');
    const sdkModule = join(outDir, 'sdk.js');
    await writeFile(
      sdkModule,
      "require('@aws-sdk/client-dynamodb');require('@aws-sdk/client-eventbridge');",
    );
    context.progress('[bundles] loading the baselines');
    const emptyMs = loadMs(emptyModule);
    const sdkMs = loadMs(sdkModule);
    const figures: Figure[] = [
      { name: 'Load an empty module (baseline)', value: emptyMs, unit: 'ms' },
      {
        name: 'Load the DynamoDB and EventBridge clients (baseline)',
        value: sdkMs,
        unit: 'ms',
      },
    ];
    const notes: string[] = [];
    for (const handler of HANDLERS) {
      context.progress(`[bundles] building and loading ${handler}`);
      const built = await bundle(handler, model.json, outDir);
      const ms = loadMs(built.outfile);
      figures.push(
        {
          name: `${handler} bundle size`,
          value: built.size / 1024,
          unit: 'KB',
          target: '≤ 300 KB',
          met: built.size <= MAX_BYTES,
        },
        {
          name: `${handler} load time`,
          value: ms,
          unit: 'ms',
          baseline: { name: 'SDK clients', value: sdkMs },
          target: '≤ 150 ms',
          met: ms <= MAX_LOAD_MS,
        },
      );
      notes.push(
        `Largest parts of the ${handler} bundle: ${largestInputs(built.metafile, 5)}.`,
      );
    }
    notes.unshift(
      'Method: each handler is bundled by esbuild with the options of ' +
        '`lib/constructs/scoring-functions.ts` (CommonJS, minified, source ' +
        'map in its own file and not counted, the default model embedded, ' +
        '`@aws-sdk/*` external because the Lambda runtime provides it). ' +
        `Load time is the median of ${LOADS} fresh \`node\` processes timing ` +
        '`require` of the bundle, including the AWS SDK clients it loads; ' +
        'the baselines time an empty module and the two SDK clients alone.',
    );
    return { title: 'Lambda bundles', figures, notes };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
