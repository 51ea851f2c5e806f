import {
  compileValidatedModel,
  type ModelDocument,
  type ScoringModel,
} from '../domain/model.js';

/**
 * JSON of the model document that synthesis validated, defaults filled
 * in. The CDK build defines it as a string literal (see bundlingOptions
 * in lib/constructs/scoring-functions.ts). Outside a bundle it is
 * undefined, and unlike process.env, no environment variable sets it.
 */
declare const MQL_EMBEDDED_MODEL_JSON: string | undefined;

/**
 * Loads the scoring model of the runtime. A Lambda bundle compiles the
 * embedded model without the model schema, which synthesis already ran.
 * Outside a bundle, loadModel validates MQL_MODEL_FILE or the bundled
 * default model.
 *
 * NOTE: esbuild leaves the model schema and the file readers out of the
 * bundle only because their import sits in the branch that it drops as
 * dead code. An early return in place of the conditional expression
 * would bundle them again.
 */
export async function loadRuntimeModel(
  modelFile: string | undefined,
): Promise<ScoringModel> {
  return typeof MQL_EMBEDDED_MODEL_JSON === 'string'
    ? compileValidatedModel(
        JSON.parse(MQL_EMBEDDED_MODEL_JSON) as ModelDocument,
      )
    : (await import('./model-source.js')).loadModel(modelFile);
}
