import {
  type DispositionStep,
  dispositionStep,
  type OutcomeRecord,
} from '../../functions/domain/disposition.js';

/**
 * Conversion of the qualified leads whose score fell in one band. Each
 * episode counts in exactly one of accepted, rejected, recycled, sql and
 * opportunity: the one of its final disposition.
 */
export interface BandConversion {
  /** Lowest score of the band, included. */
  from: number;
  /**
   * Score where the band ends, excluded: `from` plus the band width.
   * Scores have two decimals, so 129.99 is in the band [120, 130).
   */
  to: number;
  /** Qualified lead episodes with at least one disposition. */
  episodes: number;
  /** Episodes whose final disposition is accepted. */
  accepted: number;
  rejected: number;
  recycled: number;
  /** Episodes whose final disposition is converted to an SQL. */
  sql: number;
  /** Episodes whose final disposition is converted to an opportunity. */
  opportunity: number;
  /** Share of episodes that ended converted (sql or opportunity), 0 to 1. */
  conversion: number;
}

/**
 * Position of each step in the order an episode moves through. Of two
 * dispositions of an episode recorded in the same millisecond, the one
 * with the later step is final.
 */
const STEP_RANK: Record<DispositionStep, number> = {
  accepted: 0,
  sql: 1,
  opportunity: 2,
  rejected: 3,
  recycled: 3,
};

/**
 * Groups dispositions by lead episode and counts, per band of the score
 * at qualification, the episodes by their final disposition: the latest
 * one. So an episode that sales accepted and then rejected counts as
 * rejected only, and one converted to an SQL and then an opportunity
 * counts as opportunity only.
 */
export function conversionByBand(
  outcomes: readonly OutcomeRecord[],
  bandWidth: number,
): BandConversion[] {
  const finals = new Map<string, OutcomeRecord>();
  for (const outcome of outcomes) {
    const final = finals.get(outcome.episodeKey);
    if (final === undefined || isLater(outcome, final)) {
      finals.set(outcome.episodeKey, outcome);
    }
  }
  const bands = new Map<number, BandConversion>();
  for (const final of finals.values()) {
    const from = Math.floor(final.qualifiedScore / bandWidth) * bandWidth;
    const band = bands.get(from) ?? emptyBand(from, from + bandWidth);
    bands.set(from, band);
    band.episodes += 1;
    band[dispositionStep(final)] += 1;
  }
  return [...bands.values()]
    .map((band) => ({
      ...band,
      conversion: (band.sql + band.opportunity) / band.episodes,
    }))
    .sort((a, b) => b.from - a.from);
}

/**
 * Tells whether an outcome comes after another of its episode: by time,
 * then by step, then by event id so that the result does not depend on
 * the order in which the outcomes were read.
 */
function isLater(outcome: OutcomeRecord, other: OutcomeRecord): boolean {
  if (outcome.at !== other.at) return outcome.at > other.at;
  const rank = STEP_RANK[dispositionStep(outcome)];
  const otherRank = STEP_RANK[dispositionStep(other)];
  if (rank !== otherRank) return rank > otherRank;
  return outcome.eventId > other.eventId;
}

function emptyBand(from: number, to: number): BandConversion {
  return {
    from,
    to,
    episodes: 0,
    accepted: 0,
    rejected: 0,
    recycled: 0,
    sql: 0,
    opportunity: 0,
    conversion: 0,
  };
}

/**
 * Formats the bands as an aligned text table. A band shows as the
 * half-open range [from, to), because a score equal to `to` belongs to
 * the next band up.
 */
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
    `[${band.from}, ${band.to})`,
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
    `Lead episodes by final disposition per score band at qualification, ${range}`,
    `Each band [a, b) contains the scores from a up to but not including b, ${bandWidth} points wide.`,
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
