import type { OutcomeRecord } from '../../functions/domain/disposition.js';

/** Conversion of the qualified leads whose score fell in one band. */
export interface BandConversion {
  /** Lowest score of the band; the band ends below `from + width`. */
  from: number;
  /** Qualified lead episodes with at least one disposition. */
  episodes: number;
  accepted: number;
  rejected: number;
  recycled: number;
  /** Episodes converted to an SQL, or further to an opportunity. */
  sql: number;
  opportunity: number;
  /** Share of episodes converted to SQL or opportunity, 0 to 1. */
  conversion: number;
}

/**
 * Groups dispositions by lead episode and counts, per band of the score
 * at qualification, the episodes that sales accepted, rejected, recycled
 * and converted. An episode counts once per kind however often sales
 * changed its mind; an opportunity counts as an SQL too.
 */
export function conversionByBand(
  outcomes: readonly OutcomeRecord[],
  bandWidth: number,
): BandConversion[] {
  const episodes = new Map<string, OutcomeRecord[]>();
  for (const outcome of outcomes) {
    const list = episodes.get(outcome.episodeKey) ?? [];
    list.push(outcome);
    episodes.set(outcome.episodeKey, list);
  }
  const bands = new Map<number, BandConversion>();
  for (const list of episodes.values()) {
    const score = list[0]?.qualifiedScore ?? 0;
    const from = Math.floor(score / bandWidth) * bandWidth;
    const band = bands.get(from) ?? emptyBand(from);
    bands.set(from, band);
    const kinds = new Set(list.map((outcome) => outcome.kind));
    const stages = new Set(list.map((outcome) => outcome.convertedTo));
    band.episodes += 1;
    if (kinds.has('accepted')) band.accepted += 1;
    if (kinds.has('rejected')) band.rejected += 1;
    if (kinds.has('recycled')) band.recycled += 1;
    if (stages.has('opportunity')) band.opportunity += 1;
    if (stages.has('sql') || stages.has('opportunity')) band.sql += 1;
  }
  return [...bands.values()]
    .map((band) => ({ ...band, conversion: band.sql / band.episodes }))
    .sort((a, b) => b.from - a.from);
}

function emptyBand(from: number): BandConversion {
  return {
    from,
    episodes: 0,
    accepted: 0,
    rejected: 0,
    recycled: 0,
    sql: 0,
    opportunity: 0,
    conversion: 0,
  };
}

/** Formats the bands as an aligned text table. */
export function formatConversion(
  bands: readonly BandConversion[],
  bandWidth: number,
  months: readonly string[],
): string {
  const header = [
    'score band',
    'episodes',
    'accepted',
    'rejected',
    'recycled',
    'sql',
    'opportunity',
    'conversion',
  ];
  const rows = bands.map((band) => [
    `${band.from}-${band.from + bandWidth}`,
    String(band.episodes),
    String(band.accepted),
    String(band.rejected),
    String(band.recycled),
    String(band.sql),
    String(band.opportunity),
    `${(band.conversion * 100).toFixed(1)}%`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0
          ? cell.padEnd(widths[column] ?? 0)
          : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  const range = `${months[0]} to ${months[months.length - 1]}`;
  if (rows.length === 0) {
    return `Conversion per score band, ${range}: no dispositions recorded.\n`;
  }
  return [
    `Conversion per score band at qualification, ${range}`,
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** Returns the `YYYY-MM` months from `count - 1` months before `now`. */
export function lastMonths(now: number, count: number): string[] {
  const date = new Date(now);
  const months: string[] = [];
  for (let back = count - 1; back >= 0; back -= 1) {
    const month = new Date(
      Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, 1),
    );
    months.push(month.toISOString().slice(0, 7));
  }
  return months;
}
