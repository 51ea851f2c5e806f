import { readFileSync } from 'node:fs';
import defaultModelDocument from '../../models/procurement-software.json' with {
  type: 'json',
};
import { InvalidModelError } from '../domain/errors.js';
import { compileModel, type ScoringModel } from '../domain/model.js';
import { JsonFileError, parseJsonFile } from './json-file.js';

/**
 * Loads the scoring model: the JSON that the CDK build embeds as
 * `process.env.MQL_MODEL_JSON`, else the file named by MQL_MODEL_FILE,
 * else the bundled procurement-software model.
 */
export function loadModel(modelFile: string | undefined): ScoringModel {
  // The CDK build replaces both reads with the model JSON, so esbuild
  // drops the other branch and the default model from the bundle.
  const document: unknown = process.env.MQL_MODEL_JSON
    ? JSON.parse(process.env.MQL_MODEL_JSON)
    : readModelDocument(modelFile);
  return compileModel(document);
}

function readModelDocument(modelFile: string | undefined): unknown {
  if (modelFile === undefined) {
    return defaultModelDocument;
  }
  try {
    return parseJsonFile(readFileSync(modelFile));
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    throw new InvalidModelError(
      `The model file ${modelFile} ${error.message}`,
      error.issues,
    );
  }
}

/** The bundled default model document. */
export const DEFAULT_MODEL_DOCUMENT: unknown = defaultModelDocument;
