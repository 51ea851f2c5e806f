import { UsageError } from './replay/errors.js';
import { optionalVariable } from './user-path.js';

/** Variable that sets the DynamoDB endpoint, as the AWS SDK reads it. */
export const ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_DYNAMODB';

/** Variable that sets the lead table of `npm run report`, `outbox` and `model`. */
export const TABLE_VARIABLE = 'TABLE_NAME';

/**
 * A DynamoDB endpoint and the option or variable that set it, so that an
 * error names the one the user has to change.
 */
export interface DynamoDbEndpoint {
  url: string;
  source: '--endpoint' | typeof ENDPOINT_VARIABLE;
}

/**
 * Returns the DynamoDB endpoint of a command: `--endpoint`, else
 * AWS_ENDPOINT_URL_DYNAMODB unless it is empty, else undefined for the
 * AWS SDK's settings. Raises UsageError naming the source of a value
 * that is not an http or https URL.
 */
export function dynamoDbEndpointOf(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): DynamoDbEndpoint | undefined {
  const endpoint: DynamoDbEndpoint | undefined =
    option !== undefined
      ? { url: option, source: '--endpoint' }
      : fromVariable(optionalVariable(env, ENDPOINT_VARIABLE));
  if (endpoint === undefined) return undefined;
  const shown = withoutCredentials(endpoint.url);
  if (!isHttpUrl(endpoint.url)) {
    throw new UsageError(
      `Invalid ${endpoint.source} "${shown}": expected an http or ` +
        'https URL, such as the DynamoDB Local endpoint http://127.0.0.1:8000 ' +
        'that `npm start` prints.',
    );
  }
  if (shown !== endpoint.url) {
    throw new UsageError(
      `Invalid ${endpoint.source}: the URL contains a user name or ` +
        `password, which DynamoDB does not read. Remove them, as in ` +
        `${shown}, and give AWS credentials through the usual AWS SDK ` +
        'settings.',
    );
  }
  return endpoint;
}

/**
 * Returns `url` without the user name and password it may contain, for
 * messages, because a password must not reach a log.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#@]*@/, '$1');
}

function fromVariable(url: string | undefined): DynamoDbEndpoint | undefined {
  return url === undefined ? undefined : { url, source: ENDPOINT_VARIABLE };
}

/** Tells whether `text` is an absolute http or https URL. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'http:' || protocol === 'https:';
}

/**
 * Returns a command's lead table: `--table`, else TABLE_NAME unless it is
 * empty, else `fallback`. Raises UsageError for an empty `--table` and
 * for a name that DynamoDB does not allow.
 */
export function tableNameOf(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  fallback: string,
): string {
  if (option === '') {
    throw new UsageError(
      'Invalid --table "": name the lead table, such as mql-engine-dev.',
    );
  }
  const name = option ?? (env[TABLE_VARIABLE] || fallback);
  const source = tableSourceOf(option, env);
  if (source !== undefined && !isTableName(name)) {
    throw new UsageError(
      `Invalid ${source} "${name}": a DynamoDB table name has 3 to 255 ` +
        'letters, digits, "_", "-" or "." (such as mql-engine-dev), or is ' +
        'a table ARN.',
    );
  }
  return name;
}

/**
 * Tells whether DynamoDB accepts `name` as a TableName: 3 to 255 of
 * [a-zA-Z0-9_.-], or the ARN of a table.
 */
function isTableName(name: string): boolean {
  return (
    /^[a-zA-Z0-9_.-]{3,255}$/.test(name) ||
    /^arn:[a-z-]+:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255}$/.test(
      name,
    )
  );
}

/**
 * Returns what set a command's table: `--table`, else TABLE_NAME unless
 * it is empty, else undefined for the default.
 */
export function tableSourceOf(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (option !== undefined) return '--table';
  return env[TABLE_VARIABLE] ? TABLE_VARIABLE : undefined;
}
