import type { ApiRequest } from '../adapters/http/api-request.js';
import { ValidationError } from '../domain/errors.js';

/** Maximum length of an account id in a path. */
const MAX_ACCOUNT_ID_LENGTH = 512;

/** Returns the account id of an `/accounts/{accountId}` path. */
export function accountIdOf(request: ApiRequest): string {
  const accountId = request.pathParameters.accountId;
  if (
    accountId === undefined ||
    accountId === '' ||
    accountId.length > MAX_ACCOUNT_ID_LENGTH
  ) {
    throw new ValidationError(
      'The path must name an account: /accounts/{accountId}, such as /accounts/domain:acme.example.',
      [
        {
          field: 'accountId',
          message: `is required, at most ${MAX_ACCOUNT_ID_LENGTH} characters`,
        },
      ],
    );
  }
  return accountId;
}
