import { lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import {
  readBoundedFileSync,
  UnreadableFileError,
} from '../functions/adapters/bounded-file.js';
import { TRACKING_RESPONSES } from '../functions/adapters/config.js';
import {
  DEFAULT_REVIEW_SHARDS,
  MAX_REVIEW_SHARDS,
} from '../functions/adapters/dynamodb/table-layout.js';
import { describeFileError } from '../functions/adapters/file-error.js';
import {
  JsonFileError,
  parseJsonFile,
} from '../functions/adapters/json-file.js';
import {
  prototypeKeyIssues,
  toDocumentIssues,
} from '../functions/domain/issues.js';
import {
  isReadableAt,
  isValidAt,
  whenReadable,
  whenValid,
} from '../functions/domain/valid-fields.js';
import { ConfigurationError } from './configuration-error.js';
import { corsOriginsSchema } from './definitions/cors.js';
import {
  DEFAULT_ROUTING_TARGETS,
  eventSettingsSchema,
} from './definitions/event-routing.js';
import { secretNameSchema } from './definitions/secret-name.js';
import { mergeDefaults } from './merge-defaults.js';
import {
  adminAuthSchema,
  alarmsSchema,
  defaultWriteKeySecretName,
  functionsSchema,
  integerBetween,
  logLevelSchema,
  positiveNumberUpTo,
  REGION_PATTERN,
  sweepTimeoutSeconds,
} from './stage-settings.js';

/** Model file of stages that set no modelFile, from the project root. */
export const DEFAULT_MODEL_FILE = 'models/procurement-software.json';

/** Stage that must retain its data, with PITR and deletion protection. */
export const PRODUCTION_STAGE = 'prod';

/** Size limit of a stage configuration file, far above any real one. */
const MAX_STAGE_FILE_BYTES = 1_048_576;

const LOG_RETENTION_DAYS: readonly number[] = Object.values(
  RetentionDays,
).filter((value): value is number => typeof value === 'number');

/**
 * The stage name is part of every resource name, `mql-engine-<stage>-…`.
 * The longest, a rule's `mql-engine-<stage>-to-<target id>` with a
 * 20-character target id, must fit EventBridge's 64 characters.
 */
const stageNameSchema = z
  .string()
  .regex(
    /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/,
    'must be 1 to 20 lower-case letters, digits or hyphens, starting with a letter',
  );

/**
 * API Gateway's default account-level throttling per Region: 10,000
 * requests per second with a burst of 5,000. A stage's limits cannot
 * exceed its account's. NOTE: an account whose limits were raised on
 * request could set more, but synthesis cannot read them, so these
 * bounds follow the defaults.
 */
const MAX_API_RATE_LIMIT = 10_000;
const MAX_API_BURST_LIMIT = 5_000;
const ACCOUNT_LIMIT_NOTE = ", API Gateway's default account limit per Region";

/**
 * A stage file is committed and deployed from other checkouts too, such
 * as a CI runner's, where a path outside the repository names another
 * file or none. So the model must be a file of the repository.
 */
const modelFileSchema = z
  .string()
  .min(1)
  // White space around a path is invisible in the "was not found" error
  // that such a path would get.
  .refine((file) => file.trim() === file, {
    message: 'must not start or end with white space; remove it',
  })
  .refine(
    (file) =>
      !isAbsolute(file) && !normalize(file).split(/[\\/]/).includes('..'),
    {
      message:
        'must be a relative path inside the repository, such as models/my-model.json; copy the model into the repository',
    },
  );

const throttlingSchema = z
  .object({
    /** Steady-state requests per second across the API. */
    rateLimit: positiveNumberUpTo(
      MAX_API_RATE_LIMIT,
      ` requests per second${ACCOUNT_LIMIT_NOTE}`,
    ),
    /** Requests the API accepts at once above the steady rate. */
    burstLimit: integerBetween(
      1,
      MAX_API_BURST_LIMIT,
      ` requests${ACCOUNT_LIMIT_NOTE}`,
    ),
  })
  .strict();

/**
 * Maximum retention of raw events and the archive: 100 years. EventBridge
 * takes any 32-bit number of days, so this is a chosen bound that catches
 * typos such as 4000000 before they reach CloudFormation.
 */
const MAX_EVENT_RETENTION_DAYS = 36_500;

/** CDK's value of logRetentionDays for logs that never expire. */
const NEVER_EXPIRE = 9999;

/** The fields a stage file may set: all but the stage's name. */
const stageSettingsSchema = z
  .object({
    // An account id is a string because it may start with 0, which a
    // JSON number cannot.
    account: z
      .string({
        error: (issue) =>
          typeof issue.input === 'number'
            ? 'must be a string of 12 digits in quotes, such as "123456789012", not a number'
            : undefined,
      })
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(
        new RegExp(`^${REGION_PATTERN}$`),
        'must be a region such as eu-west-1',
      )
      .optional(),
    /** Path of the scoring model JSON, relative to the project root. */
    modelFile: modelFileSchema.default(DEFAULT_MODEL_FILE),
    /**
     * Secrets Manager secret with the write key digests, read at run time
     * so that keys rotate without a deployment. Default:
     * `mql-engine/<stage>/write-keys`.
     */
    writeKeySecretName: secretNameSchema.optional(),
    /**
     * Partitions of the review index the sweep reads. NOTE: lowering it
     * after deployment leaves items in the removed shards unswept until
     * their lead is written again.
     */
    reviewShards: integerBetween(1, MAX_REVIEW_SHARDS).default(
      DEFAULT_REVIEW_SHARDS,
    ),
    /** Days raw events are kept before their TTL deletes them. */
    eventRetentionDays: integerBetween(
      1,
      MAX_EVENT_RETENTION_DAYS,
      ' days',
    ).default(400),
    /**
     * Minutes between two runs of the decay sweep, an EventBridge
     * Scheduler rate expression in whole minutes.
     */
    sweepRateMinutes: integerBetween(1, 60, ' minutes').default(5),
    /** Days CloudWatch Logs keeps function and access logs. */
    logRetentionDays: z
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), {
        message: `must be one of CloudWatch Logs' retention periods in days, ${LOG_RETENTION_DAYS.filter((days) => days !== NEVER_EXPIRE).join(', ')}, or ${NEVER_EXPIRE} (never expire)`,
      }),
    apiThrottling: throttlingSchema,
    /**
     * Origins whose pages may call the API from a browser. An empty list
     * turns CORS off: browsers then block cross-origin calls, and
     * server-side clients are not affected.
     */
    corsAllowedOrigins: corsOriginsSchema,
    /** Retain the table and logs on delete, with PITR and deletion protection. */
    protectData: z.boolean(),
    adminAuth: adminAuthSchema,
    functions: functionsSchema,
    logLevel: logLevelSchema,
    /** X-Ray active tracing of the functions. */
    tracing: z.boolean(),
    alarms: alarmsSchema,
    /** Routing targets of published events, and the email option. */
    events: eventSettingsSchema,
    /**
     * Response of the tracking routes: `scores` adds each message's lead
     * id and the leads' scores, `counts` gives statuses and counts only,
     * because a browser source's write key is public.
     */
    trackingResponse: z.enum(TRACKING_RESPONSES),
  })
  .strict();

type StageSettings = z.output<typeof stageSettingsSchema>;

/** Partition and region of an SNS topic ARN, `arn:<partition>:sns:<region>:…`. */
const TOPIC_ARN_LOCATION = /^arn:([^:]+):sns:([^:]+):/;

/**
 * Returns the schema of a stage's settings with the checks that compare
 * fields. Each such check runs whenever the fields it reads are valid, so
 * that a file with several mistakes gets them all named at once.
 */
function stageConfigSchema(stageName: string) {
  const isProduction = stageName === PRODUCTION_STAGE;
  return stageSettingsSchema
    .refine((config) => !isProduction || config.protectData, {
      path: ['protectData'],
      message: 'must be true in the prod stage',
      when: whenValid(['protectData']),
    })
    .refine(
      (config) =>
        !isProduction ||
        config.alarms.topicArns.length + config.alarms.emails.length > 0,
      {
        path: ['alarms'],
        message: 'must set topicArns or emails in the prod stage',
        when: whenReadable(['alarms', 'topicArns'], ['alarms', 'emails']),
      },
    )
    .refine(
      ({ functions, sweepRateMinutes }) =>
        (functions.sweep.timeoutSeconds ?? 0) <= sweepRateMinutes * 60,
      {
        path: ['functions', 'sweep', 'timeoutSeconds'],
        message:
          'must not exceed the sweep interval, sweepRateMinutes × 60, so that sweeps rarely overlap',
        when: whenValid(
          ['functions', 'sweep', 'timeoutSeconds'],
          ['sweepRateMinutes'],
        ),
      },
    )
    .superRefine(
      ({ region, alarms }, context) =>
        checkTopicLocations(region, alarms.topicArns, context),
      {
        when: (payload) =>
          isValidAt(payload.issues, ['region']) &&
          isReadableAt(payload.issues, ['alarms', 'topicArns']),
      },
    )
    .transform((settings) => withDerivedValues(settings, stageName));
}

/**
 * Adds an issue at each valid topic ARN that CloudWatch alarms of the
 * stage cannot notify. Alarms notify only topics in their own region, so
 * every topic must be in the stage region and its partition, or, without
 * a stage region, in the region of the first topic.
 */
function checkTopicLocations(
  region: string | undefined,
  topicArns: readonly string[],
  context: z.RefinementCtx,
): void {
  let firstTopic: { index: number; region: string } | undefined;
  topicArns.forEach((arn, index) => {
    const path = ['alarms', 'topicArns', index];
    if (!isValidAt(context.issues, path)) return;
    const [, topicPartition, topicRegion] = TOPIC_ARN_LOCATION.exec(arn) ?? [];
    if (topicPartition === undefined || topicRegion === undefined) return;
    if (region === undefined) {
      firstTopic ??= { index, region: topicRegion };
      if (topicRegion === firstTopic.region) return;
      context.addIssue({
        code: 'custom',
        path,
        message: `must be a topic in the region of alarms.topicArns[${firstTopic.index}], ${firstTopic.region}, not ${topicRegion}, because CloudWatch alarms notify only topics in their own region and the stack deploys to one region; create the topics in one region and set region to it`,
      });
      return;
    }
    if (topicRegion !== region) {
      context.addIssue({
        code: 'custom',
        path,
        message: `must be a topic in the stage region ${region}, not ${topicRegion}, because CloudWatch alarms notify only topics in their own region; create the topic in ${region}`,
      });
      return;
    }
    // RegionInfo lists the Regions of this aws-cdk-lib version and
    // returns no partition for a newer Region, which stays unchecked.
    const partition = RegionInfo.get(region).partition;
    if (partition === undefined || topicPartition === partition) return;
    context.addIssue({
      code: 'custom',
      path,
      message: `must be a topic in the partition of the stage region ${region}, arn:${partition}:sns:…, not arn:${topicPartition}:sns:…, because no ARN of another partition exists there; correct the ARN's partition`,
    });
  });
}

/** Fills in the stage name and the values whose defaults depend on other fields. */
function withDerivedValues(settings: StageSettings, stageName: string) {
  const { sweep } = settings.functions;
  return {
    ...settings,
    stageName,
    writeKeySecretName:
      settings.writeKeySecretName ?? defaultWriteKeySecretName(stageName),
    functions: {
      ...settings.functions,
      sweep: {
        ...sweep,
        timeoutSeconds: sweepTimeoutSeconds(
          sweep.timeoutSeconds,
          settings.sweepRateMinutes,
        ),
      },
    },
  };
}

export type StageConfig = z.output<ReturnType<typeof stageConfigSchema>>;
type StageDefaults = Partial<z.input<typeof stageSettingsSchema>>;

const DEV_DEFAULTS = {
  logRetentionDays: 14,
  apiThrottling: { rateLimit: 50, burstLimit: 100 },
  // Any page may send tracking calls to a dev stage, so a site under test
  // can be served from any host or port.
  corsAllowedOrigins: ['*'],
  protectData: false,
  adminAuth: { type: 'iam' },
  functions: {
    ingest: { memorySize: 1024, timeoutSeconds: 29 },
    leads: { memorySize: 512, timeoutSeconds: 10 },
    recycle: { memorySize: 512, timeoutSeconds: 10 },
    sweep: { memorySize: 1024 },
  },
  logLevel: 'DEBUG',
  tracing: true,
  alarms: {},
  events: { includeEmail: false, targets: [...DEFAULT_ROUTING_TARGETS] },
  trackingResponse: 'scores',
} satisfies StageDefaults;

/** Defaults of the known stages. Any other stage gets the dev defaults. */
export const STAGE_DEFAULTS: Readonly<Record<string, StageDefaults>> = {
  dev: DEV_DEFAULTS,
  staging: {
    ...DEV_DEFAULTS,
    logRetentionDays: 30,
    corsAllowedOrigins: [],
    logLevel: 'INFO',
    trackingResponse: 'counts',
  },
  prod: {
    ...DEV_DEFAULTS,
    logRetentionDays: 365,
    apiThrottling: { rateLimit: 500, burstLimit: 1000 },
    corsAllowedOrigins: [],
    protectData: true,
    // Estimates: 500 requests per second of about 100 ms each keep about
    // 50 ingest executions busy. Reserving capacity also caps each
    // function, so a flood cannot starve the others.
    functions: {
      ingest: {
        memorySize: 1024,
        timeoutSeconds: 29,
        reservedConcurrency: 100,
      },
      leads: { memorySize: 512, timeoutSeconds: 10, reservedConcurrency: 10 },
      recycle: { memorySize: 512, timeoutSeconds: 10, reservedConcurrency: 2 },
      sweep: { memorySize: 1024, reservedConcurrency: 1 },
    },
    logLevel: 'INFO',
    trackingResponse: 'counts',
  },
};

/**
 * Builds a stage's configuration from its defaults and the optional file
 * `<configDir>/<stage>.json`, whose values override the defaults field by
 * field: nested objects merge, arrays replace. Raises ConfigurationError
 * naming the file and every invalid field.
 */
export function loadStageConfig(
  stageName: string,
  configDir: string,
): StageConfig {
  // The name is checked first because it becomes a path: `../x` would
  // read a file outside configDir.
  const name = stageNameSchema.safeParse(stageName);
  if (!name.success) {
    throw new ConfigurationError(`Invalid stage name "${stageName}":`, [
      `stageName: ${name.error.issues[0]?.message}`,
    ]);
  }
  const file = join(configDir, `${stageName}.json`);
  const overrides = readStageFile(file);
  const hasFile = overrides !== undefined;
  const source = hasFile ? file : `defaults only, no ${file}`;
  const settings = mergeDefaults(defaultsOf(stageName), overrides ?? {});
  // The schema has no stageName field, so that an unknown field's message
  // lists only the fields a file may set.
  const parsed = stageConfigSchema(stageName).safeParse(settings);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Invalid configuration of stage "${stageName}" (${source}):`,
      toDocumentIssues(parsed.error).map(
        (issue) => `${issue.field}: ${issue.message}`,
      ),
    );
  }
  return parsed.data;
}

/**
 * Reads a stage file, or returns undefined when it does not exist. Any
 * other failure raises ConfigurationError, because a file that exists
 * but cannot be read must not fall back to the defaults.
 */
function readStageFile(file: string): Record<string, unknown> | undefined {
  let values: unknown;
  try {
    values = parseJsonFile(readBoundedFileSync(file, MAX_STAGE_FILE_BYTES));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      rejectDanglingLink(file);
      return undefined;
    }
    if (error instanceof UnreadableFileError) {
      throw new ConfigurationError(
        `Stage configuration file ${file} ${error.message}. Make it a JSON file of the stage's settings.`,
      );
    }
    if (code !== undefined) {
      throw new ConfigurationError(
        `Stage configuration file ${file} ${describeFileError(error)}`,
      );
    }
    if (!(error instanceof JsonFileError)) throw error;
    throw new ConfigurationError(
      `Stage configuration file ${file} ${error.message}`,
      error.issues.map((issue) => `${issue.field}: ${issue.message}`),
    );
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ConfigurationError(
      `Invalid stage configuration file ${file}: expected a JSON object.`,
    );
  }
  const prototypeKeys = prototypeKeyIssues(values);
  if (prototypeKeys.length > 0) {
    throw new ConfigurationError(
      `Invalid stage configuration file ${file}:`,
      prototypeKeys.map((issue) => `${issue.field}: ${issue.message}`),
    );
  }
  if ('stageName' in values) {
    throw new ConfigurationError(`Invalid stage configuration file ${file}:`, [
      'stageName: must not be set; the stage comes from -c stage=NAME',
    ]);
  }
  return values as Record<string, unknown>;
}

/**
 * Raises ConfigurationError when `file`, which cannot be opened, is a
 * symbolic link. Its target is missing, and the defaults would replace
 * the stage's settings unnoticed.
 */
function rejectDanglingLink(file: string): void {
  if (!lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) return;
  throw new ConfigurationError(
    `Stage configuration file ${file} is a symbolic link to ${readlinkSync(file)}, which does not exist. Point the link at the stage's JSON file, or remove the link to use the defaults.`,
  );
}

function defaultsOf(stageName: string): StageDefaults {
  return Object.hasOwn(STAGE_DEFAULTS, stageName)
    ? (STAGE_DEFAULTS[stageName] ?? DEV_DEFAULTS)
    : DEV_DEFAULTS;
}
