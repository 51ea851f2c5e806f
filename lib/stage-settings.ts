import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { isValidAt, whenReadable } from '../functions/domain/valid-fields.js';
import {
  ERASURE_END_MS,
  MIN_ERASURE_TIMEOUT_SECONDS,
} from '../functions/handlers/erasure-time.js';
import { oauthScopeSchema } from './definitions/connection-parameters.js';
import { isUnreachableHost } from './definitions/endpoint-url.js';

/**
 * Schemas of the operational parts of a stage configuration: admin
 * authentication, function sizing, logging and alarms. The stage
 * configuration in stage-config.ts composes them.
 */

/**
 * API Gateway ends an HTTP API integration after 30 seconds, so an HTTP
 * function that runs longer only burns time after the client got an error.
 */
export const MAX_HTTP_TIMEOUT_SECONDS = 29;

/** Lambda's own limit on a function's run time. */
const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

/** Lambda's range of function memory, in MiB. */
const MIN_MEMORY_MIB = 128;
const MAX_MEMORY_MIB = 10_240;

/**
 * Reserved concurrency that a Region's default quota of 1,000 concurrent
 * executions allows: Lambda keeps 100 of them unreserved, for functions
 * without a reservation. NOTE: an account whose quota was raised could
 * reserve more, but synthesis cannot read the quota, so this bound
 * follows the default.
 */
export const MAX_RESERVED_CONCURRENCY = 900;

/**
 * Returns a schema of whole numbers from `min` to `max` whose every error,
 * wrong type included, names the range, followed by `note`. One check
 * tests both, because a number such as 1e300, beyond the safe integers and
 * the range, would otherwise get the same message from each.
 */
export function integerBetween(min: number, max: number, note = '') {
  const message = `must be a whole number between ${min} and ${max}${note}`;
  return z
    .number({ error: (issue) => withInputType(message, issue.input) })
    .refine(
      (value) => Number.isSafeInteger(value) && value >= min && value <= max,
      { error: message },
    );
}

/**
 * Adds what a value that is not a number is instead, so that `"5"` reads
 * as a string to unquote rather than a number out of range.
 */
function withInputType(message: string, input: unknown): string {
  if (typeof input === 'string') {
    return `${message}, not a string; write the number without quotes`;
  }
  const kind = nonNumberKind(input);
  return kind === undefined ? message : `${message}, not ${kind}`;
}

function nonNumberKind(input: unknown): string | undefined {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'boolean') return 'true or false';
  if (typeof input === 'object') return 'an object';
  return undefined;
}

/**
 * Returns a schema of numbers above 0 and at most `max` whose every error
 * names the range, followed by `note`.
 */
export function positiveNumberUpTo(max: number, note = '') {
  const message = `must be a number more than 0 and at most ${max}${note}`;
  return z
    .number({ error: (issue) => withInputType(message, issue.input) })
    .positive({ error: message })
    .max(max, { error: message });
}

/**
 * CloudWatch accepts at most 5 actions per alarm state. The topic created
 * for `alarms.emails` takes one of them.
 */
const MAX_ALARM_ACTIONS = 5;

/**
 * API Gateway's fixed quotas of an HTTP API: 50 audiences per JWT
 * authorizer and 10 scopes per route. CloudFormation rejects more at
 * deploy time, after synthesis and cfn-lint passed.
 */
const MAX_JWT_AUDIENCES = 50;
const MAX_ROUTE_SCOPES = 10;

/**
 * Issuer of the admin JWTs. API Gateway compares it with each token's
 * `iss` claim as written. OpenID Connect Core 1.0 ("Issuer Identifier")
 * makes `iss` an https URL of scheme, host, optional port and path,
 * without a query or fragment. The template contains the issuer, so it
 * must not carry a user name or password.
 */
const jwtIssuerSchema = z
  .url({
    protocol: /^https$/,
    error: 'must be an https URL such as https://example.auth0.com/',
  })
  .superRefine((issuer, context) => {
    // Zod runs this check after a failed URL check too.
    if (!URL.canParse(issuer)) return;
    const url = new URL(issuer);
    if (url.protocol !== 'https:') return;
    // The URL parser also reads https:host and HTTPS://host, which no
    // token's iss claim contains.
    if (!issuer.startsWith('https://')) {
      context.addIssue({
        code: 'custom',
        message:
          "must start with https:// in lower case, as a token's iss claim does; copy the issuer value of the identity provider's /.well-known/openid-configuration",
      });
    }
    if (url.username !== '' || url.password !== '') {
      context.addIssue({
        code: 'custom',
        message:
          'must not contain a user name or password, which would be written into the template; the issuer URL is public',
      });
    }
    // API Gateway reads the issuer's discovery document and keys over
    // the internet.
    if (isUnreachableHost(url)) {
      context.addIssue({
        code: 'custom',
        message:
          "must have a host reachable from the internet, not a loopback, private, link-local, multicast or reserved address, because API Gateway reads the issuer's /.well-known/openid-configuration",
      });
    }
    // The text is tested, because a bare ? or # leaves search and hash
    // empty.
    if (/[?#]/.test(issuer)) {
      context.addIssue({
        code: 'custom',
        message:
          "must not have a query or fragment, which an issuer identifier never has; use the issuer value of the identity provider's /.well-known/openid-configuration",
      });
    }
  });

/** Scopes of one admin route, at most API Gateway's limit per route. */
const routeScopesSchema = z
  .array(oauthScopeSchema)
  .max(
    MAX_ROUTE_SCOPES,
    `must list at most ${MAX_ROUTE_SCOPES} scopes, API Gateway's limit per route`,
  );

/**
 * IAM authorization of the admin routes. API Gateway checks scopes only
 * in JWTs, so `writeScopes` is rejected here by name rather than as an
 * unknown field.
 */
const iamAdminAuthSchema = z.strictObject(
  {
    type: z.literal('iam'),
    writeScopes: z
      .undefined({
        error:
          'must not be set when type is iam, because API Gateway checks scopes only in JWTs; allow execute-api:Invoke on the routes that change data only in the IAM policies of writers, or set type to jwt',
      })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'is not a field of {"type": "iam"}, which takes only type; issuer, audience, scopes and writeScopes belong to {"type": "jwt"}. Remove it or set type to jwt.'
        : undefined,
  },
);

/** Authorization of every admin route, such as `GET /leads/{leadId}`. */
export const adminAuthSchema = z.discriminatedUnion('type', [
  iamAdminAuthSchema,
  z
    .object({
      type: z.literal('jwt'),
      /** Issuer URL; API Gateway reads its OpenID discovery document. */
      issuer: jwtIssuerSchema,
      /** Accepted `aud` values; a token must carry one of them. */
      audience: z
        .array(z.string().min(1))
        .min(1, 'must list at least one accepted aud value')
        .max(
          MAX_JWT_AUDIENCES,
          `must list at most ${MAX_JWT_AUDIENCES} aud values, API Gateway's limit per JWT authorizer`,
        ),
      /**
       * OAuth scopes a token must carry, any one of them, on every admin
       * route, or on the GET routes only when `writeScopes` is set.
       */
      scopes: routeScopesSchema.default([]),
      /**
       * OAuth scopes, any one of them, that the admin routes other than
       * GET require in place of `scopes`: erasure, recycle and
       * disposition. Absent: those routes require `scopes` too.
       */
      writeScopes: routeScopesSchema
        .min(
          1,
          'must list at least one scope; remove writeScopes to let the routes that change data require scopes',
        )
        .optional(),
    })
    .strict(),
]);

export type AdminAuth = z.output<typeof adminAuthSchema>;

const RESERVATION_NOTE =
  ", because Lambda keeps 100 of a Region's default 1000 concurrent executions unreserved";

function functionSettings(maxTimeoutSeconds: number) {
  return z
    .object({
      /** Memory in MiB; Lambda sizes CPU in proportion. */
      memorySize: integerBetween(MIN_MEMORY_MIB, MAX_MEMORY_MIB, ' MiB'),
      timeoutSeconds: integerBetween(1, maxTimeoutSeconds, ' seconds'),
      /**
       * Concurrent executions reserved for the function, which also caps
       * it. Absent: the function shares the account's unreserved pool.
       */
      reservedConcurrency: integerBetween(
        1,
        MAX_RESERVED_CONCURRENCY,
        RESERVATION_NOTE,
      ).optional(),
    })
    .strict();
}

/** Memory, timeout and concurrency of each function. */
export const functionsSchema = z
  .object({
    ingest: functionSettings(MAX_HTTP_TIMEOUT_SECONDS),
    leads: functionSettings(MAX_HTTP_TIMEOUT_SECONDS),
    /**
     * The recycle function also erases leads, so its timeout has a
     * minimum.
     */
    recycle: functionSettings(MAX_HTTP_TIMEOUT_SECONDS).extend({
      timeoutSeconds: integerBetween(
        MIN_ERASURE_TIMEOUT_SECONDS,
        MAX_HTTP_TIMEOUT_SECONDS,
        `, because an erasure keeps ${ERASURE_END_MS / 1000} seconds of it back to end its work`,
      ),
    }),
    /** Absent timeout: the sweep interval, at most 5 minutes. */
    sweep: functionSettings(MAX_LAMBDA_TIMEOUT_SECONDS).extend({
      timeoutSeconds: integerBetween(
        1,
        MAX_LAMBDA_TIMEOUT_SECONDS,
        ' seconds',
      ).optional(),
    }),
  })
  .strict()
  .superRefine(
    (functions, context) => {
      // An invalid reservation has its own issue and is left out of the sum.
      const reserved = Object.entries(functions).reduce(
        (sum, [name, settings]) =>
          isValidAt(context.issues, [name, 'reservedConcurrency'])
            ? sum + (settings.reservedConcurrency ?? 0)
            : sum,
        0,
      );
      if (reserved > MAX_RESERVED_CONCURRENCY) {
        context.addIssue({
          code: 'custom',
          message: `must not reserve ${reserved} executions together: at most ${MAX_RESERVED_CONCURRENCY}${RESERVATION_NOTE}`,
        });
      }
    },
    { when: whenReadable(['ingest'], ['leads'], ['recycle'], ['sweep']) },
  );

export type FunctionName = keyof z.output<typeof functionsSchema>;

/** Powertools log levels a stage may set; lower levels log more. */
export const logLevelSchema = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']);

/**
 * Returns a refinement that adds an issue at each item whose `key`
 * repeats an earlier item's. A repeated email would make the stack
 * subscribe an address twice, which the CDK rejects with a stack trace,
 * and a repeated topic would be notified twice by every alarm.
 */
function rejectRepeats<T>(field: string, key: (item: T) => string) {
  return (items: T[], context: z.RefinementCtx) => {
    const firstIndexes = new Map<string, number>();
    items.forEach((item, index) => {
      if (!isValidAt(context.issues, [index])) return;
      const firstIndex = firstIndexes.get(key(item));
      if (firstIndex === undefined) {
        firstIndexes.set(key(item), index);
        return;
      }
      context.addIssue({
        code: 'custom',
        path: [index],
        message: `must not repeat ${field}[${firstIndex}]. Remove one of them.`,
      });
    });
  };
}

/**
 * Returns the message for an invalid alarm email. An address whose domain
 * has letters outside ASCII gets its domain's punycode form (IDNA), which
 * the check accepts.
 */
function emailIssue(input: unknown): string {
  const text = typeof input === 'string' ? input : '';
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range
  const ascii = /^[\x00-\x7f]*$/;
  if (at > 0 && ascii.test(local) && !ascii.test(domain)) {
    const punycode = domainToASCII(domain);
    if (punycode !== '') {
      return `must be an email address with an ASCII domain; write ${domain} in its punycode form: ${local}@${punycode}`;
    }
  }
  return 'must be an email address, such as ops@acme.example';
}

/** An AWS Region code, such as eu-west-1, us-gov-west-1 or cn-north-1. */
export const REGION_PATTERN = '[a-z]{2}(?:-[a-z]+)+-\\d+';

/**
 * An SNS topic ARN of a standard topic. The partition is `aws` or
 * `aws-<name>`, such as aws-cn or aws-us-gov. A topic name has 1 to 256
 * letters, digits, hyphens or underscores.
 */
const TOPIC_ARN = new RegExp(
  `^arn:aws(?:-[a-z]+)*:sns:${REGION_PATTERN}:\\d{12}:[\\w-]{1,256}$`,
);

export const alarmsSchema = z
  .object({
    /** Existing SNS topics notified when an alarm fires or recovers. */
    topicArns: z
      .array(
        z
          .string()
          .regex(
            TOPIC_ARN,
            'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:alerts',
          ),
      )
      .superRefine(
        rejectRepeats('alarms.topicArns', (arn) => arn),
        {
          when: whenReadable([]),
        },
      )
      .default([]),
    /**
     * Addresses subscribed to a topic the stack creates. Addresses that
     * differ only in case count as one mailbox.
     */
    emails: z
      .array(z.email({ error: (issue) => emailIssue(issue.input) }))
      .max(20)
      .superRefine(
        rejectRepeats('alarms.emails', (email) => email.toLowerCase()),
        { when: whenReadable([]) },
      )
      .default([]),
    /** Age in minutes of an unpublished outbox entry that raises an alarm. */
    outboxAgeMinutes: integerBetween(1, 1_440, ' minutes').default(15),
    /** Share of API responses with a 5xx status, in percent, that raises an alarm. */
    api5xxPercent: positiveNumberUpTo(100, ' percent').default(1),
  })
  .strict()
  .refine(
    (alarms) =>
      alarms.topicArns.length + (alarms.emails.length > 0 ? 1 : 0) <=
      MAX_ALARM_ACTIONS,
    {
      path: ['topicArns'],
      message: `must list at most ${MAX_ALARM_ACTIONS} topics, or ${MAX_ALARM_ACTIONS - 1} when emails are set, because an alarm takes ${MAX_ALARM_ACTIONS} actions`,
      when: whenReadable(['topicArns'], ['emails']),
    },
  );

export type AlarmSettings = z.output<typeof alarmsSchema>;

/** Returns the default secret name of a stage's write key digests. */
export function defaultWriteKeySecretName(stageName: string): string {
  return `mql-engine/${stageName}/write-keys`;
}

/** Returns the sweep timeout: as configured, else the interval up to 5 min. */
export function sweepTimeoutSeconds(
  configured: number | undefined,
  sweepRateMinutes: number,
): number {
  return configured ?? Math.min(sweepRateMinutes * 60, 300);
}
