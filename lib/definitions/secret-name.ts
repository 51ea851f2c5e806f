import { z } from 'zod';

/**
 * Secrets Manager reads a name that ends in a hyphen and six characters as
 * a partial ARN, so such names resolve to the wrong secret.
 */
const SECRET_SUFFIX_LIKE = /-[A-Za-z0-9]{6}$/;

/**
 * Name of a Secrets Manager secret that the stack reads, such as the
 * write key digests or a connection's API key. A name with other
 * characters, such as `:`, cannot be passed as a secret id.
 */
export const secretNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9/_+=.@-]{1,512}$/,
    'must be 1 to 512 letters, digits or /_+=.@- characters',
  )
  .refine((name) => !SECRET_SUFFIX_LIKE.test(name), {
    message:
      'must not end with a hyphen and six characters, which Secrets Manager reads as the random suffix of an ARN',
  });
