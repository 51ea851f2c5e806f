import { z } from 'zod';

/**
 * Limits of an EventBridge connection's credentials and parameters.
 * ClientID, ClientSecret, ApiKeyName and ApiKeyValue take 1 to 512
 * characters without a colon or a control character other than tab
 * (Amazon EventBridge API Reference, CreateConnectionOAuthClientRequestParameters
 * and CreateConnectionApiKeyAuthRequestParameters). A body parameter's
 * value, which carries the scopes, takes at most 512 characters of
 * printable ASCII (CloudFormation Template Reference,
 * AWS::Events::Connection Parameter). Lengths count Unicode code points,
 * as JSON Schema's maxLength in CloudFormation's resource schema does.
 * NOTE: EventBridge does not document how it counts characters outside
 * the Basic Multilingual Plane, so a client ID with many of them may
 * still fail at deploy time.
 */
const MAX_CONNECTION_PARAMETER_LENGTH = 512;

/**
 * Checks whether a value has a character that EventBridge rejects in a
 * client ID or an API key: a colon, or a C0 control or DEL other than tab.
 */
function hasForbiddenCredentialCharacter(value: string): boolean {
  for (const character of value) {
    const code = character.codePointAt(0) ?? 0;
    if (character === ':' || code === 0x7f) return true;
    if (code < 0x20 && character !== '\t') return true;
  }
  return false;
}

/**
 * A scope-token of RFC 6749, section 3.3: printable ASCII other than
 * space, `"` and `\`.
 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Returns the number of Unicode code points of a string. */
function codePointLength(value: string): number {
  return [...value].length;
}

/** Schema of a connection's OAuth client ID, sent with the client secret. */
export const oauthClientIdSchema = z.string().superRefine((value, context) => {
  const length = codePointLength(value);
  if (length === 0 || length > MAX_CONNECTION_PARAMETER_LENGTH) {
    context.addIssue({
      code: 'custom',
      message: `must be 1 to ${MAX_CONNECTION_PARAMETER_LENGTH} characters, the limit of EventBridge, but has ${length}`,
    });
  }
  if (hasForbiddenCredentialCharacter(value)) {
    context.addIssue({
      code: 'custom',
      message:
        'must not contain a colon or a control character other than tab, which EventBridge rejects in a client ID',
    });
  } else if (length > 0 && /^[ \t]+$/.test(value)) {
    context.addIssue({
      code: 'custom',
      message:
        'must not be only white space; set the client ID that the authorization server issued',
    });
  }
});

/**
 * One OAuth scope. A token lists its scopes separated by spaces, so a
 * scope with a space in it could never be granted.
 */
export const oauthScopeSchema = z
  .string()
  .regex(
    SCOPE_TOKEN,
    'must be an OAuth scope token: printable ASCII characters other than space, " and \\. List each scope as its own item.',
  );

/**
 * Scopes requested with the token. The connection sends them joined by
 * spaces as one `scope` body parameter, which limits their total length.
 */
export const oauthScopesSchema = z
  .array(oauthScopeSchema)
  .superRefine((scopes, context) => {
    const length = codePointLength(scopes.join(' '));
    if (length > MAX_CONNECTION_PARAMETER_LENGTH) {
      context.addIssue({
        code: 'custom',
        message: `must be at most ${MAX_CONNECTION_PARAMETER_LENGTH} characters when joined by spaces, the limit of a connection's body parameter, but are ${length}; request fewer scopes`,
      });
    }
  });
