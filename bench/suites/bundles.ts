import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { build, type Metafile } from 'esbuild';
import { bundlingOptions } from '../../lib/constructs/scoring-functions.js';
import {
  LAYER_MODULES_DIR,
  XRAY_SDK_MODULE,
} from '../../lib/constructs/xray-sdk-layer.js';
import { addStageStack } from '../../lib/mql-engine-app.js';
import { loadScoringModel } from '../../lib/scoring-model.js';
import { loadStageConfig } from '../../lib/stage-config.js';
import type { BenchContext, Figure, SuiteReport } from '../context.js';
import { median } from '../stats.js';

export const description =
  'Lambda bundles: minified size as CDK builds them and time to load each in Node.';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HANDLERS = ['ingest', 'leads', 'recycle', 'sweep'] as const;
const STAGE = 'dev';
const LOADS = 7;
const MAX_BYTES = 300 * 1024;
const MAX_LOAD_MS = 150;

/** Function code that `cdk synth` wrote into the cloud assembly. */
interface SynthesizedCode {
  bundles: { handler: string; file: string; bytes: Buffer }[];
  /** nodejs/node_modules of the X-Ray SDK layer's asset. */
  layerModules: string;
}

interface Resource {
  Type: string;
  Properties?: {
    Code?: { S3Key?: unknown };
    Content?: { S3Key?: unknown };
  };
}

type Resources = Record<string, Resource>;

/**
 * Synthesizes the dev stage with bundling, as `npm run synth` does, and
 * returns the index.js of each function's asset and the layer's modules.
 */
function synthesize(outdir: string): SynthesizedCode {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    outdir,
    context: { ...cdkJson.context, stage: STAGE },
  });
  const stack = addStageStack(app);
  app.synth();
  const { Resources: resources } = JSON.parse(
    readFileSync(join(outdir, stack.templateFile), 'utf8'),
  ) as { Resources: Resources };
  const bundles = HANDLERS.map((handler) => {
    const id = `Functions${handler.charAt(0).toUpperCase()}${handler.slice(1)}`;
    const code = findResource(resources, 'AWS::Lambda::Function', id)?.Code;
    const file = join(outdir, assetDirectory(code?.S3Key, id), 'index.js');
    return { handler, file, bytes: readFileSync(file) };
  });
  const layer = findResource(resources, 'AWS::Lambda::LayerVersion', '');
  const layerDir = assetDirectory(layer?.Content?.S3Key, 'the layer');
  return { bundles, layerModules: join(outdir, layerDir, LAYER_MODULES_DIR) };
}

function findResource(resources: Resources, type: string, idPrefix: string) {
  const entry = Object.entries(resources).find(
    ([id, resource]) => resource.Type === type && id.startsWith(idPrefix),
  );
  return entry?.[1].Properties;
}

/** Returns the directory of a file asset, named after its S3 key. */
function assetDirectory(s3Key: unknown, owner: string): string {
  if (typeof s3Key !== 'string') {
    throw new Error(`No asset found for ${owner} in the template.`);
  }
  return `asset.${s3Key.replace(/\.zip$/, '')}`;
}

/**
 * Builds a handler again with esbuild's API and the options of
 * lib/constructs/scoring-functions.ts, plus the platform and target that
 * NodejsFunction adds, to get the metafile that `cdk synth` does not
 * write. The caller checks that the output matches CDK's bundle.
 */
async function analyze(handler: string, outDir: string, modelJson: string) {
  const options = bundlingOptions(modelJson);
  const outfile = join(outDir, 'analysis', handler, 'index.js');
  const result = await build({
    entryPoints: [join(ROOT, 'functions/handlers', `${handler}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: options.format,
    minify: options.minify,
    sourcemap: options.sourceMap,
    define: options.define,
    external: options.externalModules,
    metafile: true,
    logLevel: 'error',
  });
  return { bytes: await readFile(outfile), metafile: result.metafile };
}

/** Returns the model JSON that the stage's bundles embed. */
function stageModelJson(): string {
  const config = loadStageConfig(STAGE, join(ROOT, 'config', 'stages'));
  return loadScoringModel(resolve(ROOT, config.modelFile)).json;
}

/**
 * Loads a module in a fresh Node process `LOADS` times and returns the
 * median milliseconds `require` took. External modules resolve through
 * NODE_PATH in Lambda's order, layers before the runtime: the layer's
 * modules first, then the repository's node_modules in place of the
 * runtime's AWS SDK.
 */
function loadMs(file: string, layerModules: string): number {
  const script =
    'const start = performance.now();' +
    `require(${JSON.stringify(file)});` +
    'process.stdout.write(String(performance.now() - start));';
  const nodePath = [layerModules, join(ROOT, 'node_modules')].join(delimiter);
  const times: number[] = [];
  for (let run = 0; run < LOADS; run += 1) {
    const child = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_PATH: nodePath },
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

/** Writes the modules of the baselines and returns their paths. */
async function writeBaselines(outDir: string) {
  const requireAll = (names: readonly string[]) =>
    names.map((name) => `require(${JSON.stringify(name)});`).join('');
  const sdkClients = [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-eventbridge',
  ];
  const paths = {
    empty: join(outDir, 'empty.js'),
    sdk: join(outDir, 'sdk.js'),
    sdkAndLayer: join(outDir, 'sdk-and-layer.js'),
  };
  await writeFile(paths.empty, '');
  await writeFile(paths.sdk, requireAll(sdkClients));
  await writeFile(
    paths.sdkAndLayer,
    requireAll([...sdkClients, XRAY_SDK_MODULE]),
  );
  return paths;
}

export async function run(context: BenchContext): Promise<SuiteReport> {
  const outDir = await mkdtemp(join(tmpdir(), 'mql-bundles-'));
  try {
    context.progress(`[bundles] synthesizing the ${STAGE} stage`);
    const code = synthesize(join(outDir, 'cdk.out'));
    const layerFile = join(code.layerModules, XRAY_SDK_MODULE, 'index.js');
    const layerBytes = (await readFile(layerFile)).length;
    context.progress('[bundles] loading the baselines');
    const baselines = await writeBaselines(outDir);
    const sdkMs = loadMs(baselines.sdk, code.layerModules);
    const figures: Figure[] = [
      {
        name: 'Load an empty module (baseline)',
        value: loadMs(baselines.empty, code.layerModules),
        unit: 'ms',
      },
      {
        name: 'Load the DynamoDB and EventBridge clients (baseline)',
        value: sdkMs,
        unit: 'ms',
      },
      {
        name: 'Load those clients and the X-Ray SDK layer (baseline)',
        value: loadMs(baselines.sdkAndLayer, code.layerModules),
        unit: 'ms',
      },
      {
        name: 'X-Ray SDK layer module size',
        value: layerBytes / 1024,
        unit: 'KB',
      },
    ];
    const modelJson = stageModelJson();
    const notes: string[] = [];
    const mismatches: string[] = [];
    for (const bundle of code.bundles) {
      context.progress(`[bundles] loading ${bundle.handler}`);
      const ms = loadMs(bundle.file, code.layerModules);
      figures.push(
        {
          name: `${bundle.handler} bundle size`,
          value: bundle.bytes.length / 1024,
          unit: 'KB',
          target: '≤ 300 KB',
          met: bundle.bytes.length <= MAX_BYTES,
        },
        {
          name: `${bundle.handler} load time`,
          value: ms,
          unit: 'ms',
          baseline: { name: 'SDK clients', value: sdkMs },
          target: '≤ 150 ms',
          met: ms <= MAX_LOAD_MS,
        },
      );
      const analysis = await analyze(bundle.handler, outDir, modelJson);
      if (!analysis.bytes.equals(bundle.bytes)) {
        mismatches.push(
          `${bundle.handler} (${analysis.bytes.length} bytes against CDK's ${bundle.bytes.length})`,
        );
      }
      notes.push(
        `Largest parts of the ${bundle.handler} bundle: ${largestInputs(analysis.metafile, 5)}.`,
      );
    }
    notes.unshift(METHOD, breakdownNote(mismatches));
    return { title: 'Lambda bundles', figures, notes };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const METHOD =
  `Method: the ${STAGE} stage is synthesized with bundling, as ` +
  '`npm run synth` does, and each size is the `index.js` of the ' +
  "function's asset: esbuild with the options of " +
  '`lib/constructs/scoring-functions.ts` (CommonJS, minified, the ' +
  "stage's model embedded, the source map in its own file and not " +
  'counted). Two packages are left external. `@aws-sdk/*` comes from ' +
  'the Lambda runtime. `aws-xray-sdk-core`, which the Powertools Tracer ' +
  'requires, comes from a layer that the stack builds and attaches to ' +
  'every function: esbuild bundles the SDK with its dependencies into ' +
  'one minified module, whose size is listed on its own. Load time is ' +
  `the median of ${LOADS} fresh \`node\` processes timing \`require\` ` +
  'of the bundle, including every module it loads at cold start: the ' +
  "layer's module from the synthesized layer, and the AWS SDK from " +
  "node_modules in place of the runtime's. The baselines time an empty " +
  'module, the two SDK clients, and those clients with the layer module.';

function breakdownNote(mismatches: readonly string[]): string {
  if (mismatches.length === 0) {
    return (
      'The breakdowns below come from an esbuild build with the same ' +
      'options, whose output is byte for byte the bundle CDK built.'
    );
  }
  return (
    'NOTE: the esbuild build behind the breakdowns below differs from ' +
    `CDK's bundle for ${mismatches.join(', ')}, so they are approximate.`
  );
}
