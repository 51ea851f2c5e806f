import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { measureDelivery } from '../../scripts/reliability/delivery.js';
import {
  END_MARKER,
  formatDeliverySection,
  replaceSection,
  START_MARKER,
  writeDeliverySection,
} from '../../scripts/reliability/report.js';

describe('delivery with half of all entries failing', () => {
  it('delivers every MQL exactly once after recovery', async () => {
    const report = await measureDelivery({
      dynamoDbEndpoint: inject('dynamoDbEndpoint'),
      motoEndpoint: inject('motoEndpoint'),
      mqls: 16,
      failureRate: 0.5,
      nonRetryableShare: 0.5,
      seed: 6,
    });

    expect(report.entriesFailed).toBeGreaterThan(0);
    expect(report.operatorRetries).toBeGreaterThan(0);
    expect(report.deliveredByIngest).toBeLessThan(16);
    expect(report.delivered).toBe(16);
    expect(report.duplicates).toBe(0);
    expect(report.outboxLeft).toBe(0);
  }, 90_000);
});

describe('RELIABILITY.md section', () => {
  const report = {
    mqls: 10,
    failureRate: 0.5,
    entriesSent: 30,
    entriesFailed: 15,
    deliveredByIngest: 6,
    failedAfterIngest: 1,
    sweeps: 3,
    operatorRetries: 2,
    delivered: 10,
    duplicates: 0,
    outboxLeft: 0,
  };
  const context = { seed: 1, nonRetryableShare: 0.2, measuredOn: 'test' };

  it('replaces only its own section', () => {
    const document = `# Reliability\n\n## Other\n\nkept\n\n${START_MARKER}\nold\n${END_MARKER}\n\n## After\n`;

    const updated = replaceSection(
      document,
      formatDeliverySection(report, context),
    );

    expect(updated).toContain('## Other\n\nkept');
    expect(updated).toContain('## After');
    expect(updated).not.toContain('\nold\n');
    expect(updated).toContain(
      '10 MQLs were produced and **10 were delivered**',
    );
  });

  it('appends the section to a document without it', () => {
    const updated = replaceSection(
      '# Reliability\n\n## Other\n',
      formatDeliverySection(report, context),
    );

    expect(updated.startsWith('# Reliability\n\n## Other\n')).toBe(true);
    expect(updated.trimEnd().endsWith(END_MARKER)).toBe(true);
  });

  it('replaces the file by rename', () => {
    const directory = mkdtempSync(join(tmpdir(), 'reliability-'));
    const file = join(directory, 'RELIABILITY.md');
    writeFileSync(file, '# Reliability\n\n## Other\n');
    const before = statSync(file).ino;

    writeDeliverySection(file, formatDeliverySection(report, context));

    // A file written in place keeps its inode, and a crash in the middle
    // of that write leaves it cut off. A renamed file is whole or absent.
    expect(statSync(file).ino).not.toBe(before);
    expect(readFileSync(file, 'utf8')).toContain('## Other');
    expect(readFileSync(file, 'utf8')).toContain(END_MARKER);
    expect(readdirSync(directory)).toEqual(['RELIABILITY.md']);
  });

  it('creates a missing file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'reliability-'));
    const file = join(directory, 'RELIABILITY.md');

    writeDeliverySection(file, formatDeliverySection(report, context));

    expect(readFileSync(file, 'utf8')).toMatch(/^# Reliability\n\n/);
    expect(readdirSync(directory)).toEqual(['RELIABILITY.md']);
  });
});
