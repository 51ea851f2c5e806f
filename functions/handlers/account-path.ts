import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';
import type { AccountView } from '../use-cases/get-account.js';
import { fitsBytes, MAX_ACCOUNT_PATH_ID_BYTES } from './path-id.js';

/** The kinds of account id that ingest writes, as `<kind>:<name>`. */
const ACCOUNT_KIND = /^\s*(group|domain|company):/;

/** Returns the account id of an `/accounts/{accountId}` path. */
export function accountIdOf(request: ApiRequest): string {
  const accountId = request.pathParameters.accountId;
  if (
    accountId === undefined ||
    accountId === '' ||
    !fitsBytes(accountId, MAX_ACCOUNT_PATH_ID_BYTES)
  ) {
    throw new ValidationError(
      'The path must name an account: /accounts/{accountId}, such as /accounts/domain:acme.example.',
      [
        {
          field: 'accountId',
          message: `is required, at most ${MAX_ACCOUNT_PATH_ID_BYTES} bytes in UTF-8`,
        },
      ],
    );
  }
  if (!ACCOUNT_KIND.test(accountId)) {
    throw new ValidationError(
      'The account id must start with its kind: group:, domain: or company:, such as /accounts/domain:acme.example.',
      [
        {
          field: 'accountId',
          message: `must start with group:, domain: or company:, got "${accountId}"`,
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
