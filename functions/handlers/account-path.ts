import type { ApiRequest } from '../adapters/http/api-request.js';
import { domainAccountIssue } from '../domain/account.js';
import { normalizeCompanyName } from '../domain/company-name.js';
import { ValidationError } from '../domain/errors.js';
import { leadIdTextIssues } from '../domain/id-text.js';
import type { AccountPolicy } from '../domain/model.js';
import type { AccountView } from '../use-cases/get-account.js';
import {
  fitsBytes,
  MAX_ACCOUNT_PATH_ID_BYTES,
  rejectedPathIdError,
} from './path-id.js';

/** The kinds of account id that ingest writes, as `<kind>:<name>`. */
const ACCOUNT_KIND = /^\s*(group|domain|company):/;

/** A valid account path of each kind, for error messages. */
const EXAMPLE_PATHS = {
  group: '/accounts/group:acct-42',
  domain: '/accounts/domain:acme.example',
  company: '/accounts/company:acme',
} as const;

/**
 * Returns the account id of an `/accounts/{accountId}` path. Raises a
 * ValidationError naming `accountId` for an id that no lead can form,
 * such as one of a personal mailbox domain in `policy`.
 */
export function accountIdOf(
  request: ApiRequest,
  policy: AccountPolicy | undefined,
): string {
  const accountId = request.pathParameters.accountId;
  if (accountId === undefined || accountId.trim() === '') {
    throw new ValidationError(
      'The path must name an account: /accounts/{accountId}, such as /accounts/domain:acme.example.',
      [{ field: 'accountId', message: 'is required' }],
    );
  }
  if (!fitsBytes(accountId, MAX_ACCOUNT_PATH_ID_BYTES)) {
    const bytes = Buffer.byteLength(accountId, 'utf8');
    throw new ValidationError(
      `The account id in the path must be at most ${MAX_ACCOUNT_PATH_ID_BYTES} bytes in UTF-8.`,
      [
        {
          field: 'accountId',
          message: `is ${bytes} bytes in UTF-8; the limit is ${MAX_ACCOUNT_PATH_ID_BYTES} bytes`,
        },
      ],
    );
  }
  const kind = ACCOUNT_KIND.exec(accountId);
  if (kind === null) {
    throw new ValidationError(
      'The account id must start with its kind: group:, domain: or company:, such as /accounts/domain:acme.example.',
      [
        {
          field: 'accountId',
          message: 'must start with group:, domain: or company:',
        },
      ],
    );
  }
  const name = accountId.slice(kind[0].length);
  const kindName = kind[1] as keyof typeof EXAMPLE_PATHS;
  if (name.trim() === '') {
    throw new ValidationError(
      `The account id names no ${kind[1]} after "${kind[1]}:". Send one, such as ${EXAMPLE_PATHS[kindName]}.`,
      [
        {
          field: 'accountId',
          message: `must name a ${kind[1]} after "${kind[1]}:"`,
        },
      ],
    );
  }
  // A group id is an id of a message, and a domain or company name
  // becomes one, so the rules of lead-forming ids apply to the name.
  const issues = leadIdTextIssues(name.trim(), {
    optional: false,
    subject: 'account',
    maxBytes: MAX_ACCOUNT_PATH_ID_BYTES,
  });
  if (issues.length > 0) throw rejectedPathIdError('accountId', issues);
  const domainIssue =
    kindName === 'domain' ? domainAccountIssue(name, policy) : undefined;
  if (domainIssue !== undefined) {
    throw new ValidationError(
      'The domain in the account id forms no account, so no account can have this id. Send the email domain of a business lead, such as /accounts/domain:acme.example.',
      [{ field: 'accountId', message: domainIssue }],
    );
  }
  if (kind[1] === 'company' && normalizeCompanyName(name) === '') {
    throw new ValidationError(
      'The company name in the account id is only punctuation, symbols and spaces, which form no account. Send a name with letters or digits, such as /accounts/company:acme.',
      [
        {
          field: 'accountId',
          message:
            'must name a company with letters or digits after "company:"',
        },
      ],
    );
  }
  return accountId;
}

/**
 * Returns a Content-Location header naming the account shown, when the
 * request named an email-domain account linked to it.
 */
export function accountContentLocation(
  account: AccountView,
): Record<string, string> {
  if (account.requestedAccountId === undefined) return {};
  return {
    'content-location': `/accounts/${encodeURIComponent(account.accountId)}`,
  };
}
