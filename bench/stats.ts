import { performance } from 'node:perf_hooks';

/** Latency percentiles of a sample, in the sample's unit. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  count: number;
}

/**
 * Returns the p50, p95 and p99 of a sample by the nearest-rank method, and
 * its mean. An empty sample gives NaN everywhere.
 */
export function percentiles(sample: readonly number[]): Percentiles {
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    p50: rank(0.5),
    p95: rank(0.95),
    p99: rank(0.99),
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    count: sorted.length,
  };
}

/** Returns the median of a sample, NaN when it is empty. */
export function median(sample: readonly number[]): number {
  return percentiles(sample).p50;
}

/** Returns milliseconds since an arbitrary origin, with sub-ms precision. */
export function now(): number {
  return performance.now();
}

/** Runs `task` and returns its result and duration in milliseconds. */
export async function timed<T>(
  task: () => Promise<T>,
): Promise<{ result: T; ms: number }> {
  const start = now();
  const result = await task();
  return { result, ms: now() - start };
}

/**
 * Runs `round` repeatedly for `warmUpMs`, then for `measureMs`, and
 * returns the units per second of the measured part. `round` returns how
 * many units (events, requests) it processed.
 */
export async function measureRate(
  round: () => Promise<number> | number,
  options: { warmUpMs: number; measureMs: number },
): Promise<{ perSecond: number; units: number; ms: number }> {
  const warmUpEnd = now() + options.warmUpMs;
  while (now() < warmUpEnd) await round();
  let units = 0;
  const start = now();
  let elapsed = 0;
  while (elapsed < options.measureMs) {
    units += await round();
    elapsed = now() - start;
  }
  return { perSecond: (units * 1000) / elapsed, units, ms: elapsed };
}

/**
 * Measures rates of several variants in alternating rounds and returns the
 * median rate of each, so that noise from other processes on a shared
 * machine falls on every variant alike.
 */
export async function compareRates<K extends string>(
  variants: Record<K, () => Promise<number> | number>,
  options: { rounds: number; warmUpMs: number; measureMs: number },
): Promise<Record<K, number>> {
  const names = Object.keys(variants) as K[];
  const samples = new Map<K, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (const name of names) {
      const { perSecond } = await measureRate(variants[name], {
        warmUpMs: round === 0 ? options.warmUpMs : 0,
        measureMs: options.measureMs,
      });
      samples.get(name)?.push(perSecond);
    }
  }
  const result = {} as Record<K, number>;
  for (const name of names) result[name] = median(samples.get(name) ?? []);
  return result;
}

/** Latencies and throughput of one variant over the rounds it ran. */
export interface LatencySample {
  /** Milliseconds per call. */
  latencies: number[];
  /** Units (events) processed. */
  units: number;
  /** Milliseconds spent in calls. */
  ms: number;
}

/**
 * Calls each variant sequentially for `roundMs`, in alternating rounds
 * after one warm-up round each, and returns every call's latency and the
 * units per second of each variant. `call` returns its units.
 */
export async function alternateLatencies<K extends string>(
  variants: Record<K, () => Promise<number>>,
  options: { rounds: number; roundMs: number; warmUpMs: number },
): Promise<Record<K, LatencySample & { perSecond: number }>> {
  const names = Object.keys(variants) as K[];
  const samples = {} as Record<K, LatencySample>;
  for (const name of names) {
    samples[name] = { latencies: [], units: 0, ms: 0 };
    const end = now() + options.warmUpMs;
    while (now() < end) await variants[name]();
  }
  for (let round = 0; round < options.rounds; round += 1) {
    for (const name of names) {
      const sample = samples[name];
      const end = now() + options.roundMs;
      while (now() < end) {
        const start = now();
        sample.units += await variants[name]();
        const ms = now() - start;
        sample.latencies.push(ms);
        sample.ms += ms;
      }
    }
  }
  const result = {} as Record<K, LatencySample & { perSecond: number }>;
  for (const name of names) {
    const sample = samples[name];
    result[name] = { ...sample, perSecond: (sample.units * 1000) / sample.ms };
  }
  return result;
}
