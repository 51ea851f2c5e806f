/**
 * Time that an erasure keeps back from the Lambda timeout for its steps
 * after the deletes: deleting the state, the account checks and the
 * publish of "Lead Erased".
 */
export const ERASURE_END_MS = 3000;

/**
 * Shortest timeout of the function that erases leads: the time kept back
 * plus 2 seconds in which to delete items.
 */
export const MIN_ERASURE_TIMEOUT_SECONDS = ERASURE_END_MS / 1000 + 2;
