import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DETAIL_TYPES,
  detailProblem,
} from '../../functions/domain/event-contract.js';

const README = readFileSync(
  resolve(import.meta.dirname, '..', '..', 'README.md'),
  'utf8',
);

/** Returns the first JSON block under the heading `#### <title>`. */
function exampleOf(title: string): unknown {
  const heading = README.indexOf(`\n#### ${title}\n`);
  if (heading < 0) throw new Error(`README has no heading "${title}"`);
  const block = /```json\n([\s\S]*?)```/.exec(README.slice(heading));
  if (block?.[1] === undefined) throw new Error(`No example of ${title}`);
  return JSON.parse(block[1]);
}

describe('README event examples', () => {
  it.each(Object.values(DETAIL_TYPES))('%s matches its schema', (type) => {
    expect(detailProblem(type, exampleOf(type))).toBeUndefined();
  });
});
