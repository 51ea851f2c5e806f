import { z } from 'zod';
import {
  isValidAt,
  whenReadable,
} from '../../functions/domain/valid-fields.js';
import { integerBetween } from '../stage-settings.js';
import {
  oauthClientIdSchema,
  oauthScopesSchema,
} from './connection-parameters.js';
import {
  apiDestinationEndpointSchema,
  eventBridgeUrlSchema,
} from './endpoint-url.js';
import { checkPatternFields, usesWildcard } from './event-pattern.js';
import { checkPatternNames } from './pattern-names.js';
import { secretNameSchema } from './secret-name.js';

/**
 * Event bus, routing targets, rules and queues, as plain data. The stage
 * configuration declares the targets. The CDK stack builds them in AWS and
 * the local runtime builds the same rules in moto, so routing is exercised
 * locally exactly as it is defined.
 */

/** Source of every event the engine publishes. */
export const EVENT_SOURCE = 'mql-engine';

/** Suffix of the name of each target's dead-letter queue. */
const DEAD_LETTER_SUFFIX = '-dlq';

/**
 * Target ids become part of resource names, `mql-engine-<stage>-<id>`,
 * which must fit EventBridge's 64 characters with a 20-character stage.
 * An id ending in `-dlq` would name the same queue as the dead-letter
 * queue of the target whose id it extends.
 */
const targetIdSchema = z
  .string()
  .regex(
    /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/,
    'must be 1 to 20 lower-case letters, digits or hyphens, starting with a letter',
  )
  .refine((id) => !id.endsWith(DEAD_LETTER_SUFFIX), {
    message: `must not end in ${DEAD_LETTER_SUFFIX}, which the engine appends to the queue name of each target's dead-letter queue. Choose another id.`,
  });

/**
 * Delivery retries of a rule target, EventBridge's RetryPolicy. Events
 * that still fail go to the target's dead-letter queue.
 */
const retryPolicySchema = z
  .object({
    /** Retries before the event goes to the dead-letter queue. */
    maximumRetryAttempts: integerBetween(0, 185, ' retries').default(185),
    /** Seconds an event is retried at most. */
    maximumEventAgeSeconds: integerBetween(60, 86_400, ' seconds').default(
      86_400,
    ),
  })
  .strict();

/**
 * EventBridge's default quota on the length of a rule's event pattern.
 * NOTE: the quota can be raised to 4,096 on request, which synthesis
 * cannot see.
 */
const MAX_EVENT_PATTERN_LENGTH = 2048;

/**
 * An event pattern in EventBridge's JSON syntax, such as
 * `{"detail-type": ["Lead Qualified"], "detail": {"score":
 * [{"numeric": [">", 80]}]}}`. The engine adds `source` itself.
 */
const eventPatternSchema = z
  .record(z.string(), z.unknown())
  .refine((pattern) => Object.keys(pattern).length > 0, {
    message: 'must match on at least one field, such as detail-type',
  })
  .refine((pattern) => !('source' in pattern), {
    message: 'must not set source; every rule matches source mql-engine',
  })
  .superRefine((pattern, context) => {
    checkPatternFields(pattern, [], context);
    checkPatternNames(pattern, context);
    const length = JSON.stringify({
      source: [EVENT_SOURCE],
      ...pattern,
    }).length;
    if (length > MAX_EVENT_PATTERN_LENGTH) {
      context.addIssue({
        code: 'custom',
        message: `takes ${length} characters as JSON with the source the engine adds, over the ${MAX_EVENT_PATTERN_LENGTH} that EventBridge takes by default; shorten it or split the target`,
      });
    }
  });

/** An HTTP header name, a token of RFC 9110, at most 512 characters. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,512}$/;

/** Maximum length of an EventBridge description. */
const MAX_DESCRIPTION_LENGTH = 512;

/**
 * Prefix of a connection's description, before the target's. The target's
 * description of an API destination therefore has 17 characters less.
 */
export const CONNECTION_DESCRIPTION_PREFIX = 'Authorization of ';

const connectionAuthSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('api-key'),
      /** Header that carries the key, such as `x-api-key`. */
      headerName: z
        .string()
        .regex(
          HTTP_TOKEN,
          "must be an HTTP header name: 1 to 512 letters, digits or !#$%&'*+-.^_`|~ characters, such as x-api-key",
        ),
      /**
       * Secret whose value is the API key. NOTE: only CloudFormation reads
       * the value, so its limits (1 to 512 characters, no colon, no control
       * character other than tab) are checked at deploy time, not here.
       */
      secretName: secretNameSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('oauth-client-credentials'),
      /** Token endpoint of the authorization server. */
      authorizationEndpoint: eventBridgeUrlSchema,
      clientId: oauthClientIdSchema,
      /** Secret whose value is the client secret, limited as the API key. */
      clientSecretName: secretNameSchema,
      /** Scopes requested with the token, space-separated when sent. */
      scopes: oauthScopesSchema.default([]),
    })
    .strict(),
]);

const targetFields = {
  id: targetIdSchema,
  description: z.string().min(1).max(MAX_DESCRIPTION_LENGTH),
  eventPattern: eventPatternSchema,
  retryPolicy: retryPolicySchema.default({
    maximumRetryAttempts: 185,
    maximumEventAgeSeconds: 86_400,
  }),
};

/** A target of routed events, with the rule that selects them. */
export const routingTargetSchema = z.discriminatedUnion('type', [
  /** An SQS queue that a sales-tool connector reads. */
  z.object({ type: z.literal('queue'), ...targetFields }).strict(),
  /** A CRM webhook, called through an EventBridge API destination. */
  z
    .object({
      type: z.literal('api-destination'),
      ...targetFields,
      description: z
        .string()
        .min(1)
        .max(
          MAX_DESCRIPTION_LENGTH - CONNECTION_DESCRIPTION_PREFIX.length,
          `must be at most ${MAX_DESCRIPTION_LENGTH - CONNECTION_DESCRIPTION_PREFIX.length} characters, because the connection's description adds "${CONNECTION_DESCRIPTION_PREFIX}" and EventBridge takes ${MAX_DESCRIPTION_LENGTH}`,
        ),
      endpoint: apiDestinationEndpointSchema,
      httpMethod: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
      /** Invocations per second EventBridge sends at most. */
      rateLimitPerSecond: integerBetween(
        1,
        300,
        ' invocations per second',
      ).default(10),
      auth: connectionAuthSchema,
    })
    .strict(),
]);

export type RoutingTarget = z.output<typeof routingTargetSchema>;
export type QueueTarget = Extract<RoutingTarget, { type: 'queue' }>;
export type ApiDestinationTarget = Extract<
  RoutingTarget,
  { type: 'api-destination' }
>;

/**
 * EventBridge's quota of rules per event bus whose pattern uses wildcard,
 * which cannot be adjusted (Amazon EventBridge User Guide, "Amazon
 * EventBridge quotas"). Every target has its own rule on the stage's bus.
 */
const MAX_WILDCARD_RULES = 30;

/** Event settings of a stage: routing targets and personal data. */
export const eventSettingsSchema = z
  .object({
    /**
     * Whether lead event details carry the lead's email, for CRM sync.
     * Every consumer of the bus then receives it.
     */
    includeEmail: z.boolean().default(false),
    /** Targets of routed events, each with its own rule. */
    targets: z
      .array(routingTargetSchema)
      // These checks compare targets, so each runs whenever the list can
      // be read and leaves out the targets whose fields have issues.
      .superRefine(rejectRepeatedIds, { when: whenReadable([]) })
      .superRefine(rejectConstructIdCollisions, { when: whenReadable([]) })
      .superRefine(
        (targets, context) => {
          const wildcardRules = targets.filter(
            (target, index) =>
              isValidAt(context.issues, [index, 'eventPattern']) &&
              usesWildcard(target.eventPattern),
          ).length;
          if (wildcardRules > MAX_WILDCARD_RULES) {
            context.addIssue({
              code: 'custom',
              message: `must have at most ${MAX_WILDCARD_RULES} targets whose eventPattern uses wildcard, EventBridge's limit per event bus, got ${wildcardRules}. Match the others with prefix, suffix or exact values.`,
            });
          }
        },
        { when: whenReadable([]) },
      ),
  })
  .strict();

export type EventSettings = z.output<typeof eventSettingsSchema>;

/**
 * Adds an issue at each target whose id repeats an earlier target's, so
 * the message names both places.
 */
function rejectRepeatedIds(
  targets: RoutingTarget[],
  context: z.RefinementCtx,
): void {
  const firstIndexes = new Map<string, number>();
  targets.forEach((target, index) => {
    if (!isValidAt(context.issues, [index, 'id'])) return;
    const firstIndex = firstIndexes.get(target.id);
    if (firstIndex === undefined) {
      firstIndexes.set(target.id, index);
      return;
    }
    context.addIssue({
      code: 'custom',
      path: [index, 'id'],
      message: `must differ from events.targets[${firstIndex}].id, which is also ${target.id}. Choose another id.`,
    });
  });
}

/**
 * Adds an issue at each target whose construct id, the PascalCase form of
 * its id, repeats an earlier target's. A hyphen before a digit or another
 * hyphen drops out of that form, so `crm1` and `crm-1` are both `Crm1`,
 * and the CDK would raise for the second with a stack trace.
 */
function rejectConstructIdCollisions(
  targets: RoutingTarget[],
  context: z.RefinementCtx,
): void {
  const firstIndexes = new Map<string, number>();
  targets.forEach((target, index) => {
    if (!isValidAt(context.issues, [index, 'id'])) return;
    const constructId = pascalCase(target.id);
    const firstIndex = firstIndexes.get(constructId);
    if (firstIndex === undefined) {
      firstIndexes.set(constructId, index);
      return;
    }
    const first = targets[firstIndex]?.id;
    // Equal ids already have their own issue.
    if (first === target.id) return;
    context.addIssue({
      code: 'custom',
      path: [index, 'id'],
      message: `must differ from events.targets[${firstIndex}].id ${first} in more than hyphens, because both become the construct id ${constructId}. Choose another id.`,
    });
  });
}

/** The sales queue, the default target of every stage. */
export const SALES_TARGET: QueueTarget = {
  type: 'queue',
  id: 'sales',
  description: 'Lead Qualified events for sales-tool connectors.',
  eventPattern: { 'detail-type': ['Lead Qualified'] },
  retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 },
};

export const DEFAULT_ROUTING_TARGETS: readonly RoutingTarget[] = [SALES_TARGET];

export interface QueueDefinition {
  /** Construct id in the CDK stack, such as `SalesQueue`. */
  id: string;
  /** Queue name suffix; the full name is `mql-engine-<stage>-<suffix>`. */
  nameSuffix: string;
  description: string;
}

export interface RuleDefinition {
  /** Construct id in the CDK stack, such as `SalesRule`. */
  id: string;
  /** Rule name suffix; the full name is `mql-engine-<stage>-<suffix>`. */
  nameSuffix: string;
  description: string;
  /** The target's pattern with `source` set to the engine's. */
  eventPattern: Record<string, unknown>;
  target: RoutingTarget;
}

/** Returns the queue a queue target delivers to. */
export function queueOf(target: QueueTarget): QueueDefinition {
  return {
    id: `${pascalCase(target.id)}Queue`,
    nameSuffix: target.id,
    description: target.description,
  };
}

/** Returns the rule that selects a target's events. */
export function ruleOf(target: RoutingTarget): RuleDefinition {
  return {
    id: `${pascalCase(target.id)}Rule`,
    nameSuffix: `to-${target.id}`,
    description: target.description,
    eventPattern: { source: [EVENT_SOURCE], ...target.eventPattern },
    target,
  };
}

/** The queue of the default sales target. */
export const SALES_QUEUE: QueueDefinition = queueOf(SALES_TARGET);

/** Returns the name of the dead-letter queue of a target's resource name. */
export function deadLetterQueueName(name: string): string {
  return `${name}${DEAD_LETTER_SUFFIX}`;
}

/** Returns the name of a stage's resource: `mql-engine-<stage>[-suffix]`. */
export function resourceName(stage: string, suffix?: string): string {
  return suffix === undefined
    ? `mql-engine-${stage}`
    : `mql-engine-${stage}-${suffix}`;
}

function pascalCase(id: string): string {
  return id
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
