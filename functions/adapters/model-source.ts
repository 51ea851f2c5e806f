import { readFileSync } from 'node:fs';
import defaultModelDocument from '../../models/procurement-software.json' with {
  type: 'json',
};
import { compileModel, type ScoringModel } from '../domain/model.js';

/**
 * Loads the scoring model: the JSON that the CDK build embeds as
 * `process.env.MQL_MODEL_JSON`, else the file named by MQL_MODEL_FILE,
 * else the bundled procurement-software model.
 */
export function loadModel(modelFile: string | undefined): ScoringModel {
  const embedded = process.env.MQL_MODEL_JSON;
  if (embedded !== undefined && embedded !== '') {
    return compileModel(JSON.parse(embedded));
  }
  if (modelFile !== undefined) {
    return compileModel(JSON.parse(readFileSync(modelFile, 'utf8')));
  }
  return compileModel(defaultModelDocument);
}

/** The bundled default model document. */
export const DEFAULT_MODEL_DOCUMENT: unknown = defaultModelDocument;
