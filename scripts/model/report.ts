import type { BacktestResult } from './backtest.js';
import type { ModelOutcome } from './compare.js';

/** Formats a count with its noun, singular for one: `1 lead`, `2 leads`. */
function counted(value: number, noun: string): string {
  return `${count(value)} ${value === 1 ? noun : `${noun}s`}`;
}

/**
 * Returns the note `model backtest` writes to stderr when events exist
 * but none is at or before the as-of time, so the comparison is empty.
 */
export function asOfNote(result: BacktestResult): string | undefined {
  if (result.events === 0 || result.eventsUntilAsOf > 0) return undefined;
  return (
    `No event is at or before the as-of time ${result.asOf}, so both ` +
    'models scored no event and the comparison is empty. The earliest ' +
    `event is at ${result.firstEventAt}, so pass that time or a later ` +
    'one as --as-of.'
  );
}

/** Formats a backtest as the text `model backtest` prints. */
export function formatBacktest(result: BacktestResult): string {
  const { live, candidate } = result;
  const row = rowFormat(label('live', live), label('candidate', candidate));
  const lines = [
    `Backtest of ${counted(result.leadsUntilAsOf, 'lead')} (${counted(result.eventsUntilAsOf, 'event')} from ${result.source}) as of ${result.asOf}, in ${result.durationSeconds.toFixed(1)} s`,
    ...inputNotes(result),
    '',
    row('', label('live', live), label('candidate', candidate)),
    row('MQLs at the as-of time', count(live.mqls), count(candidate.mqls)),
    row(
      'leads qualified at least once',
      count(live.qualifiedLeads),
      count(candidate.qualifiedLeads),
    ),
    row('qualifications', count(live.episodes), count(candidate.episodes)),
    row(
      'events quarantined',
      count(live.quarantined),
      count(candidate.quarantined),
    ),
    ...evaluationRows(result, row),
    '',
    ...changeLines(result),
  ];
  return `${lines.join('\n')}\n`;
}

function inputNotes(result: BacktestResult): string[] {
  const notes: string[] = [];
  const later = result.events - result.eventsUntilAsOf;
  if (later > 0) {
    notes.push(
      `${counted(later, 'event')} after the as-of time ${later === 1 ? 'was' : 'were'} read but not replayed.`,
    );
  }
  if (result.rejected > 0) {
    notes.push(
      `${counted(result.rejected, 'message')} failed validation and ${result.rejected === 1 ? 'was' : 'were'} left out.`,
    );
  }
  if (result.skippedLines > 0) {
    notes.push(
      `${counted(result.skippedLines, 'input line')} could not be read.`,
    );
  }
  if (result.problems.length > 0) {
    notes.push(
      `The first ${result.problems.length} of them:`,
      ...result.problems.map((problem) => `  ${problem}`),
    );
  }
  notes.push(
    result.labelledLeads > 0
      ? `Outcomes are known for ${counted(result.labelledLeads, 'lead')}.`
      : 'No outcomes are known, so AUC and conversion are not computed (see --outcomes).',
  );
  if (result.unmatchedOutcomes > 0) {
    notes.push(
      `${counted(result.unmatchedOutcomes, 'outcome')} named a lead without events and ${result.unmatchedOutcomes === 1 ? 'was' : 'were'} left out; check that the outcomes file names leads by their lead id (userId, or anon:<anonymousId>).`,
    );
  }
  return notes;
}

function evaluationRows(result: BacktestResult, row: RowFormat): string[] {
  const live = result.live.evaluation;
  const candidate = result.candidate.evaluation;
  if (live === undefined || candidate === undefined) return [];
  return [
    row('AUC of the final score', decimal(live.auc), decimal(candidate.auc)),
    row(
      'conversion of MQLs at the as-of time',
      percent(live.mqlConversionRate),
      percent(candidate.mqlConversionRate),
    ),
    row(
      'conversion of leads qualified once',
      percent(live.qualifiedConversionRate),
      percent(candidate.qualifiedConversionRate),
    ),
    row(
      'lift of leads qualified once',
      times(live.qualifiedLift),
      times(candidate.qualifiedLift),
    ),
    row(
      'converted leads that qualified',
      percent(live.recall),
      percent(candidate.recall),
    ),
    row(
      'conversion of all leads',
      percent(live.conversionRate),
      percent(candidate.conversionRate),
    ),
  ];
}

function changeLines(result: BacktestResult): string[] {
  const { changes } = result;
  const pairs = Object.entries(changes.byTransition)
    .sort(([, a], [, b]) => b - a)
    .map(([pair, n]) => `${pair} ${count(n)}`);
  const transitions =
    pairs.length > 0 ? ` (live→candidate: ${pairs.join(', ')})` : '';
  const ends = changes.changed === 1 ? 'ends' : 'end';
  const qualify =
    changes.qualifiedOnlyByCandidate === 1 ? 'qualifies' : 'qualify';
  return [
    `${counted(changes.changed, 'lead')} ${ends} in another status under the candidate${transitions}.`,
    `${counted(changes.qualifiedOnlyByCandidate, 'lead')} ${qualify} under the candidate only, ${count(changes.qualifiedOnlyByLive)} under the live model only.`,
  ];
}

function label(role: string, outcome: ModelOutcome): string {
  return `${role}: ${outcome.name} ${outcome.version}`;
}

type RowFormat = (name: string, live: string, candidate: string) => string;

/** Returns a row formatter whose columns fit the two model labels. */
function rowFormat(liveLabel: string, candidateLabel: string): RowFormat {
  const liveWidth = Math.max(16, liveLabel.length) + 2;
  const candidateWidth = Math.max(16, candidateLabel.length) + 2;
  return (name, live, candidate) =>
    `${name.padEnd(38)}${live.padStart(liveWidth)}${candidate.padStart(candidateWidth)}`;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function decimal(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(3);
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`;
}

function times(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)}x`;
}
