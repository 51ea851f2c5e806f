/**
 * Items the input readers yield: the messages from one NDJSON line or one
 * CSV row, or an issue with a line that was skipped.
 */

/** A message as sent to POST /v1/batch; the API validates it. */
export type OutgoingMessage = Record<string, unknown>;

/** Messages read from one place in the input file. */
export interface ReplayRecord {
  kind: 'record';
  /** Place in the file, such as `line 12`, used in rejection reasons. */
  origin: string;
  /** Bytes of the file up to the end of this record, for progress. */
  endOffset: number;
  messages: OutgoingMessage[];
  /**
   * JSON text of each message as the input file contains it, sent in
   * place of a serialization of `messages`. JSON.stringify would write
   * `1e400` as null and overflow the stack on a message nested thousands
   * of levels deep, so the API would judge another message.
   */
  jsonTexts?: string[];
  /** Lead the messages belong to, when the input states it. */
  leadId?: string;
  /** Outcome kept aside for evaluation; never sent to the API. */
  converted?: boolean;
}

/** A line or row that was skipped, with the reason. */
export interface InputIssue {
  kind: 'issue';
  line: number;
  reason: string;
}

export type InputItem = ReplayRecord | InputIssue;
