import defaultModelDocument from '../../models/procurement-software.json' with {
  type: 'json',
};
import { InvalidModelError } from '../domain/errors.js';
import type { ScoringModel } from '../domain/model.js';
import { compileModel } from '../domain/model-validation.js';
import { readBoundedFileSync, UnreadableFileError } from './bounded-file.js';
import { JsonFileError, parseJsonFile } from './json-file.js';

/**
 * Size limit of a model file: a model's compact JSON must stay under
 * 120,000 bytes to deploy, and this leaves room for indentation.
 */
export const MAX_MODEL_FILE_BYTES = 1_048_576;

/**
 * Loads and validates the scoring model of the local runtime and the
 * tests: the file named by MQL_MODEL_FILE, else the bundled
 * procurement-software model. The Lambda bundles load theirs with
 * loadRuntimeModel.
 */
export function loadModel(modelFile: string | undefined): ScoringModel {
  return compileModel(readModelDocument(modelFile));
}

function readModelDocument(modelFile: string | undefined): unknown {
  if (modelFile === undefined) {
    return defaultModelDocument;
  }
  try {
    return parseJsonFile(readBoundedFileSync(modelFile, MAX_MODEL_FILE_BYTES));
  } catch (error) {
    const isFileProblem =
      error instanceof JsonFileError || error instanceof UnreadableFileError;
    if (!isFileProblem) throw error;
    throw new InvalidModelError(
      `The model file ${modelFile} ${error.message}`,
      error instanceof JsonFileError ? error.issues : [],
    );
  }
}

/** The bundled default model document. */
export const DEFAULT_MODEL_DOCUMENT: unknown = defaultModelDocument;
