/**
 * Rules for the text of ids that become parts of DynamoDB keys and that
 * people read in lead lists, account views and CRM records.
 */

/**
 * Maximum size of an id in UTF-8 bytes. Ids become parts of DynamoDB keys,
 * which DynamoDB limits in bytes (2048 for a partition key, 1024 for a
 * sort key), so a limit in characters would let multi-byte ids through.
 */
export const MAX_ID_BYTES = 512;

/**
 * A surrogate not part of a pair. With the `u` flag a pair is one code
 * point, so only lone surrogates match (String.prototype.isWellFormed is
 * ES2024, beyond this project's ES2022 library).
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** A control character (category Cc): U+0000 to U+001F, U+007F to U+009F. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Bidirectional embedding, override and isolate controls (U+202A to U+202E,
 * U+2066 to U+2069). They make an id display in another order than it is
 * stored ("\u202eevil" shows as "live"), so a lead could pass for another.
 */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;

/**
 * Text made only of characters that display as nothing: format characters
 * (category Cf, such as U+200B ZERO WIDTH SPACE), other default-ignorable
 * code points (such as U+3164 HANGUL FILLER) and white space.
 */
const INVISIBLE_ONLY =
  /^[\p{Cf}\p{Default_Ignorable_Code_Point}\p{White_Space}]+$/u;

/**
 * Tells whether a text has a bidirectional control, which makes it
 * display in another order than it is stored.
 */
export function hasBidiControl(text: string): boolean {
  return BIDI_CONTROL.test(text);
}

/** Tells whether a text displays as nothing: see INVISIBLE_ONLY. */
export function isInvisibleOnly(text: string): boolean {
  return INVISIBLE_ONLY.test(text);
}

/**
 * Returns the number of characters (Unicode code points) of a text, as
 * zod's string length checks count them. A lone surrogate counts as one.
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

/**
 * Returns one message per rule of every key-forming id that `text`
 * breaks. The rules are well-formed Unicode, no control characters and
 * at most `maxBytes` bytes in UTF-8. A lone surrogate cannot be written
 * in a URL, so its lead could never be read.
 */
export function idTextIssues(text: string, maxBytes = MAX_ID_BYTES): string[] {
  if (LONE_SURROGATE.test(text)) {
    return [
      'must be well-formed Unicode; it contains a lone surrogate (U+D800 to U+DFFF). Send the id as valid Unicode text.',
    ];
  }
  const issues: string[] = [];
  if (CONTROL_CHARACTER.test(text)) {
    issues.push(
      'must not contain control characters (U+0000 to U+001F, U+007F to U+009F). Remove them from the id.',
    );
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    issues.push(
      `is ${bytes} bytes in UTF-8; the limit is ${maxBytes} bytes. Send a shorter id.`,
    );
  }
  return issues;
}

/** The thing that an id names: a lead, or an account such as a group's. */
export type IdSubject = 'lead' | 'account';

/**
 * Returns one message per rule that a lead-forming id breaks: userId,
 * anonymousId, groupId, previousId, or the part of a lead or account id
 * made of one. These ids follow the rules of every id, and they must
 * display as what they are, because people read them in lead lists and
 * CRM records. The message of an invisible id names the `subject` (a lead
 * unless given) and suggests leaving out an `optional` one.
 */
export function leadIdTextIssues(
  text: string,
  options: { optional: boolean; subject?: IdSubject; maxBytes?: number },
): string[] {
  const issues = idTextIssues(text, options.maxBytes);
  if (hasBidiControl(text)) {
    issues.push(
      'must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069), which make an id display in another order than it is stored. Remove them from the id.',
    );
  }
  if (isInvisibleOnly(text)) {
    issues.push(
      `consists only of invisible characters (format characters such as U+200B, or white space), so the ${options.subject ?? 'lead'} would look nameless. ${options.optional ? 'Send a visible id, or leave the field out.' : 'Use a visible id.'}`,
    );
  }
  return issues;
}

/**
 * Returns one message per rule that a name people read, such as a
 * model's, breaks: well-formed Unicode, no control characters, no
 * bidirectional controls, and at least one visible character.
 */
export function visibleTextIssues(text: string): string[] {
  const issues: string[] = [];
  if (LONE_SURROGATE.test(text)) {
    issues.push(
      'must be well-formed Unicode; it contains a lone surrogate (U+D800 to U+DFFF), such as a \\ud800 escape without its pair. Write the whole character or remove the escape',
    );
  }
  if (CONTROL_CHARACTER.test(text)) {
    issues.push(
      'must not contain control characters such as line breaks or tabs; write it on one line',
    );
  }
  if (BIDI_CONTROL.test(text)) {
    issues.push(
      'must not contain bidirectional controls (U+202A to U+202E, U+2066 to U+2069), which make text display in another order than it is stored; remove them',
    );
  }
  if (INVISIBLE_ONLY.test(text)) {
    issues.push('must contain a visible character, not only white space');
  }
  return issues;
}

/**
 * Characters of an id that display as nothing, move the text around or
 * look like U+0020: every white space but U+0020 itself, such as U+00A0
 * NO-BREAK SPACE, U+3000 IDEOGRAPHIC SPACE or U+2028 LINE SEPARATOR.
 */
const HIDDEN_CHARACTER =
  /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\ud800-\udfff]|[^\P{White_Space} ]/gu;

/** Code points of an id that an error message repeats at most. */
const MAX_DISPLAYED_CODE_POINTS = 100;

/**
 * Returns `text` as an error message may repeat it. Each control, format
 * or other invisible character and each white space other than U+0020
 * becomes `\u{HEX}`, so two ids that look alike read differently. Text over 100 code points is cut and followed
 * by `…` and its length.
 */
export function displayText(text: string): string {
  const codePoints = [...text];
  const visible = codePoints
    .slice(0, MAX_DISPLAYED_CODE_POINTS)
    .join('')
    .replace(
      HIDDEN_CHARACTER,
      (character) =>
        `\\u{${(character.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`,
    );
  return codePoints.length > MAX_DISPLAYED_CODE_POINTS
    ? `${visible}… (${codePoints.length} characters)`
    : visible;
}
