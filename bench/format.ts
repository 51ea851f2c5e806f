import { cpus, loadavg, totalmem } from 'node:os';
import type { Figure, SuiteReport } from './context.js';

/**
 * One line naming the CPU, cores, memory, Node version and the load
 * average of the last minute, which shows whether other processes shared
 * the cores during the run.
 */
export function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memory = Math.round(totalmem() / 2 ** 30);
  const load = (loadavg()[0] ?? 0).toFixed(1);
  return `${cpu}, ${cpus().length} cores, ${memory} GiB, Node ${process.version}, ${process.platform}, load average ${load} at start`;
}

/** Formats a number with at most three significant decimals. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en');
  return Number(value.toPrecision(3)).toString();
}

function ratio(figure: Figure): string {
  if (figure.baseline === undefined || figure.baseline.value === 0) return '';
  return `${formatNumber(figure.value / figure.baseline.value)} × ${figure.baseline.name}`;
}

function verdict(figure: Figure): string {
  if (figure.met === undefined) return '';
  return figure.met ? 'met' : 'not met';
}

/** Renders a suite as a Markdown section: heading, run facts, table, notes. */
export function formatSuite(
  report: SuiteReport,
  run: { command: string; machine: string },
): string {
  const lines = [
    `## ${report.title}`,
    '',
    `Command: \`${run.command}\`  `,
    `Machine: ${run.machine}  `,
    `Date: ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| Figure | Value | Ratio to baseline | Target | Result |',
    '| --- | ---: | --- | --- | --- |',
  ];
  for (const figure of report.figures) {
    lines.push(
      `| ${figure.name} | ${formatNumber(figure.value)} ${figure.unit} | ${ratio(figure)} | ${figure.target ?? ''} | ${verdict(figure)} |`,
    );
  }
  for (const note of report.notes ?? []) lines.push('', note);
  return `${lines.join('\n')}\n`;
}
