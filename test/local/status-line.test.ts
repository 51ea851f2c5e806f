import { describe, expect, it } from 'vitest';
import { statusLine } from '../../local/status-line.js';

describe('statusLine', () => {
  it('prints the message and the error behind it', () => {
    const line = statusLine('decay sweep failed', new Error('table not found'));
    expect(line).toBe('[mql-engine] decay sweep failed: table not found\n');
  });

  it('prints a message without an error alone', () => {
    expect(statusLine('stopped')).toBe('[mql-engine] stopped\n');
  });

  it('redacts an error message that quotes an email address', () => {
    const error = new Error('lead jane.doe@acme.example has no state');
    const line = statusLine('request failed', error);
    expect(line).not.toContain('jane.doe');
    expect(line).toMatch(
      /^\[mql-engine\] request failed: \[email sha256:[0-9a-f]{64}\]\n$/,
    );
  });

  it('redacts a thrown value that is not an Error', () => {
    const line = statusLine('request failed', 'jane@acme.example');
    expect(line).not.toContain('jane@');
  });
});
