import {
  readBoundedFileSync,
  UnreadableFileError,
} from '../functions/adapters/bounded-file.js';
import { describeFileError } from '../functions/adapters/file-error.js';
import {
  JsonFileError,
  parseJsonFile,
} from '../functions/adapters/json-file.js';
import { MAX_MODEL_FILE_BYTES } from '../functions/adapters/model-source.js';
import { InvalidModelError } from '../functions/domain/errors.js';
import { compileModel } from '../functions/domain/model-validation.js';
import { ConfigurationError } from './configuration-error.js';

/**
 * Maximum size in bytes of the embedded model as an esbuild `--define`
 * value. Local bundling passes it as one command-line argument, and Linux
 * limits one argument to 32 pages (MAX_ARG_STRLEN), 128 KiB with 4 KiB
 * pages.
 */
export const MAX_DEFINE_BYTES = 120_000;

/** Returns the bytes that a model document takes as an esbuild define. */
export function embeddedModelBytes(document: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(document)));
}

/** A validated scoring model, ready to embed in the Lambda bundles. */
export interface BundledModel {
  name: string;
  /** Content hash that versions the model, as the engine computes it. */
  version: string;
  /** The validated model document, defaults filled in, as compact JSON. */
  json: string;
}

/**
 * Reads a model file and validates it with the engine's own compiler, so a
 * model that would fail at cold start fails synthesis instead. Raises
 * ConfigurationError with the path of every invalid field.
 */
export function loadScoringModel(file: string): BundledModel {
  const document = readModelDocument(file);
  let compiled: ReturnType<typeof compileModel>;
  try {
    compiled = compileModel(document);
  } catch (error) {
    if (!(error instanceof InvalidModelError)) throw error;
    throw new ConfigurationError(
      `Invalid scoring model ${file}:`,
      error.issues.map((issue) => `${issue.field}: ${issue.message}`),
    );
  }
  // The functions compile the embedded document without validating it
  // again, so they get the validated one, with defaults filled in.
  const json = JSON.stringify(compiled.document);
  const embeddedBytes = embeddedModelBytes(compiled.document);
  if (embeddedBytes > MAX_DEFINE_BYTES) {
    throw new ConfigurationError(
      `Scoring model ${file} is too large to embed: its compact JSON takes ${embeddedBytes} bytes and must stay under ${MAX_DEFINE_BYTES}. Remove rules or shorten their patterns.`,
    );
  }
  return { name: compiled.name, version: compiled.version, json };
}

function readModelDocument(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readBoundedFileSync(file, MAX_MODEL_FILE_BYTES);
  } catch (error) {
    if (error instanceof UnreadableFileError) {
      throw new ConfigurationError(
        `Scoring model file ${file} ${error.message}. Set modelFile in the stage configuration to a model JSON file.`,
      );
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigurationError(
        `Scoring model file ${file} was not found. Set modelFile in the stage configuration to a model JSON file of the repository, such as models/procurement-software.json.`,
      );
    }
    throw new ConfigurationError(
      `Scoring model file ${file} ${describeFileError(error)} Or set modelFile in the stage configuration to another file.`,
    );
  }
  try {
    return parseJsonFile(bytes);
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    throw new ConfigurationError(
      `Scoring model file ${file} ${error.message}`,
      error.issues.map((issue) => `${issue.field}: ${issue.message}`),
    );
  }
}
