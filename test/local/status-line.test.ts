import { describe, expect, it } from 'vitest';
import { statusLine } from '../../local/status-line.js';

describe('statusLine', () => {
  it('prints message and underlying error', () => {
    const line = statusLine('decay sweep failed', new Error('table not found'));
    expect(line).toBe('[mql-engine] decay sweep failed: table not found\n');
  });

  it('prints message alone without error', () => {
    expect(statusLine('stopped')).toBe('[mql-engine] stopped\n');
  });

  it('redacts email address in error message', () => {
    const error = new Error('lead jane.doe@acme.example has no state');
    const line = statusLine('request failed', error);
    expect(line).not.toContain('jane.doe');
    expect(line).toMatch(
      /^\[mql-engine\] request failed: \[email sha256:[0-9a-f]{64}\]\n$/,
    );
  });

  it('redacts thrown non-Error values', () => {
    const line = statusLine('request failed', 'jane@acme.example');
    expect(line).not.toContain('jane@');
  });
});
