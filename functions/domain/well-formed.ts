/**
 * Replacement of lone surrogates in free text. JSON can carry a lone
 * surrogate as an escape such as `\ud800`, which no UTF-8 text can hold,
 * and DynamoDB stores strings as UTF-8, so such text is repaired before
 * it is stored.
 */

/** A high surrogate without a low one after it, or a low one alone. */
const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Returns `text` with each lone surrogate replaced by U+FFFD. */
export function wellFormedText(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** LONE_SURROGATE without the global flag, so that `test` keeps no state. */
const ANY_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);

/** Tells whether `text` contains a lone surrogate. */
function hasLoneSurrogate(text: string): boolean {
  return ANY_LONE_SURROGATE.test(text);
}

/**
 * Returns a JSON value with each lone surrogate in its strings and
 * object keys replaced by U+FFFD. A value without one is returned as it
 * is. The walk uses no recursion, so any nesting depth that JSON.parse
 * accepted is safe.
 */
export function wellFormedJson<T>(value: T): T {
  if (!containsLoneSurrogate(value)) return value;
  return repair(value) as T;
}

function containsLoneSurrogate(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (hasLoneSurrogate(value)) return true;
    } else if (Array.isArray(value)) {
      for (const child of value) pending.push(child);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (hasLoneSurrogate(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/** Copies a JSON value, repairing its strings, without recursion. */
function repair(root: unknown): unknown {
  const box: { value?: unknown } = {};
  const pending: Array<[unknown, (copy: unknown) => void]> = [
    [root, (copy) => (box.value = copy)],
  ];
  while (pending.length > 0) {
    const [value, store] = pending.pop() as [unknown, (copy: unknown) => void];
    if (typeof value === 'string') {
      store(wellFormedText(value));
    } else if (Array.isArray(value)) {
      const copy: unknown[] = new Array(value.length);
      store(copy);
      value.forEach((child, index) => {
        pending.push([child, (item) => (copy[index] = item)]);
      });
    } else if (typeof value === 'object' && value !== null) {
      const copy: Record<string, unknown> = {};
      store(copy);
      for (const [key, child] of Object.entries(value)) {
        const name = wellFormedText(key);
        // Defining each key first keeps the order of the keys, and keeps
        // a key named __proto__ an own property, which the later
        // assignment then sets.
        Object.defineProperty(copy, name, {
          value: undefined,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        pending.push([child, (item) => (copy[name] = item)]);
      }
    } else {
      store(value);
    }
  }
  return box.value;
}

/**
 * Returns the path of the first number in a JSON value that is not
 * finite, or undefined when there is none. JSON.parse reads a number
 * beyond the range of a double, such as `1e400`, as Infinity, which
 * JSON.stringify then writes as null, so the stored event would differ
 * from the one scored. The walk uses no recursion.
 */
export function nonFiniteNumberPath(
  root: unknown,
): Array<string | number> | undefined {
  const pending: Array<[unknown, Array<string | number>]> = [[root, []]];
  while (pending.length > 0) {
    const [value, path] = pending.pop() as [unknown, Array<string | number>];
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((child, index) => {
        pending.push([child, [...path, index]]);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        pending.push([child, [...path, key]]);
      }
    }
  }
  return undefined;
}
