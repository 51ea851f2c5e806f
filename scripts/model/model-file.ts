import {
  readBoundedFile,
  UnreadableFileError,
} from '../../functions/adapters/bounded-file.js';
import { describeFileError } from '../../functions/adapters/file-error.js';
import {
  JsonFileError,
  parseJsonFile,
} from '../../functions/adapters/json-file.js';
import { MAX_MODEL_FILE_BYTES } from '../../functions/adapters/model-source.js';
import type { FieldIssue } from '../../functions/domain/errors.js';
import { InvalidModelError } from '../../functions/domain/errors.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { compileModel } from '../../functions/domain/model-validation.js';

/** A model file that cannot be read, is not JSON or is not a valid model. */
export class ModelFileError extends Error {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/**
 * Reads and compiles a model file. Raises ModelFileError naming the file
 * and, for an invalid model, the path of every bad field.
 */
export async function loadModelFile(file: string): Promise<ScoringModel> {
  return compileModelDocument(file, await readModelDocument(file));
}

/**
 * Reads a model file as UTF-8 JSON. Raises ModelFileError naming the file
 * and any key set twice.
 */
export async function readModelDocument(file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(file, MAX_MODEL_FILE_BYTES);
  } catch (error) {
    throw new ModelFileError(unreadableModelMessage(file, error));
  }
  try {
    return parseJsonFile(bytes);
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    throw new ModelFileError(
      `The model file ${file} ${error.message}`,
      error.issues,
    );
  }
}

function unreadableModelMessage(file: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const isDirectory =
    error instanceof UnreadableFileError && error.kind === 'directory';
  if (isDirectory || code === 'EISDIR') {
    return `The model file ${file} is a directory; give the path of a model JSON file in it, such as models/procurement-software.json.`;
  }
  if (error instanceof UnreadableFileError) {
    const hint =
      error.kind === 'too-large' ? '' : ' Give the path of a model JSON file.';
    return `The model file ${file} ${error.message}.${hint}`;
  }
  return `The model file ${file} ${describeFileError(error)}`;
}

/**
 * Compiles the document read from `file`. Raises ModelFileError with the
 * path of every bad field.
 */
export function compileModelDocument(
  file: string,
  document: unknown,
): ScoringModel {
  try {
    return compileModel(document);
  } catch (error) {
    if (!(error instanceof InvalidModelError)) throw error;
    throw new ModelFileError(
      `The model file ${file} is invalid.`,
      error.issues,
    );
  }
}
