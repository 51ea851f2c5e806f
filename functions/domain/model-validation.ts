import { InvalidModelError } from './errors.js';
import { prototypeKeyIssues, toDocumentIssues } from './issues.js';
import { compileValidatedModel, type ScoringModel } from './model.js';
import { modelDocumentSchema } from './model-schema.js';

/**
 * Validates a model document and compiles it. Raises InvalidModelError
 * listing the path of every invalid field.
 */
export function compileModel(document: unknown): ScoringModel {
  const prototypeKeys = prototypeKeyIssues(document);
  if (prototypeKeys.length > 0) {
    throw new InvalidModelError('The scoring model is invalid.', prototypeKeys);
  }
  const parsed = modelDocumentSchema.safeParse(document);
  if (!parsed.success) {
    throw new InvalidModelError(
      'The scoring model is invalid.',
      toDocumentIssues(parsed.error),
    );
  }
  return compileValidatedModel(parsed.data);
}
