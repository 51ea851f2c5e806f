import { createHash } from 'node:crypto';
import type { OutgoingMessage } from './records.js';

/**
 * Converts rows of the X Education leads CSV into Segment messages. The
 * file is a public lead-scoring case study of an online education company
 * (9,240 leads, 37 columns, also on Kaggle as the "Leads Dataset"). Each
 * row becomes one lead: an identify with the attributes the lead reported,
 * a page view per visit and a track event for the last activity.
 *
 * The data set has no timestamps, so every message gets a deterministic
 * synthetic time in the 30 days before a reference time. Scores replayed
 * from it are therefore fit to judge ranking (AUC, lift), not decay.
 */

/** Start of the header line that identifies the file format. */
export const X_EDUCATION_HEADER_PREFIX = 'Prospect ID,Lead Number,';

/** Columns the conversion reads besides the traits. */
export const REQUIRED_COLUMNS = [
  'Prospect ID',
  'Converted',
  'TotalVisits',
  'Total Time Spent on Website',
  'Page Views Per Visit',
  'Last Activity',
] as const;

/**
 * Columns filled in by sales after contacting the lead. They leak the
 * outcome, so they are never read.
 */
export const LEAKING_COLUMNS = [
  'Tags',
  'Lead Quality',
  'Last Notable Activity',
] as const;

/**
 * Columns assigned by X Education rather than reported by the lead: a
 * serial number, a profile level and the indexes of another scoring
 * system. The data dictionary does not say when they were set, so they
 * are never read either.
 */
export const ASSIGNED_COLUMNS = [
  'Lead Number',
  'Lead Profile',
  'Asymmetrique Activity Index',
  'Asymmetrique Profile Index',
  'Asymmetrique Activity Score',
  'Asymmetrique Profile Score',
] as const;

/** `Last Activity` values that record a sales contact; never sent. */
export const LEAKING_ACTIVITIES: ReadonlySet<string> = new Set([
  'SMS Sent',
  'Had a Phone Conversation',
  'Approached upfront',
]);

/**
 * Default maximum of page views per lead. Six leads of the public data
 * set report 51 to 251 visits, which looks like bots or shared machines,
 * and uncapped they would add hundreds of identical page views each.
 */
export const DEFAULT_MAX_VISITS = 50;

/** Length of the window that synthetic timestamps are spread over. */
export const SYNTHETIC_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

type TraitKind = 'text' | 'yes-no' | 'lead-source';

interface TraitColumn {
  column: string;
  /** Trait path; two names make a nested object such as `address.city`. */
  trait: readonly [string] | readonly [string, string];
  kind: TraitKind;
}

/** Attribute columns sent as identify traits. */
const TRAIT_COLUMNS: readonly TraitColumn[] = [
  { column: 'Lead Origin', trait: ['lead_origin'], kind: 'text' },
  { column: 'Lead Source', trait: ['lead_source'], kind: 'lead-source' },
  { column: 'Do Not Email', trait: ['do_not_email'], kind: 'yes-no' },
  { column: 'Do Not Call', trait: ['do_not_call'], kind: 'yes-no' },
  { column: 'Country', trait: ['address', 'country'], kind: 'text' },
  { column: 'City', trait: ['address', 'city'], kind: 'text' },
  { column: 'Specialization', trait: ['specialization'], kind: 'text' },
  {
    column: 'How did you hear about X Education',
    trait: ['heard_about'],
    kind: 'text',
  },
  {
    column: 'What is your current occupation',
    trait: ['occupation'],
    kind: 'text',
  },
  {
    column: 'What matters most to you in choosing a course',
    trait: ['course_priority'],
    kind: 'text',
  },
  { column: 'Search', trait: ['ad_seen_in', 'search'], kind: 'yes-no' },
  { column: 'Magazine', trait: ['ad_seen_in', 'magazine'], kind: 'yes-no' },
  {
    column: 'Newspaper Article',
    trait: ['ad_seen_in', 'newspaper_article'],
    kind: 'yes-no',
  },
  {
    column: 'X Education Forums',
    trait: ['ad_seen_in', 'x_education_forums'],
    kind: 'yes-no',
  },
  { column: 'Newspaper', trait: ['ad_seen_in', 'newspaper'], kind: 'yes-no' },
  {
    column: 'Digital Advertisement',
    trait: ['ad_seen_in', 'digital_advertisement'],
    kind: 'yes-no',
  },
  {
    column: 'Through Recommendations',
    trait: ['through_recommendations'],
    kind: 'yes-no',
  },
  {
    column: 'Receive More Updates About Our Courses',
    trait: ['course_updates'],
    kind: 'yes-no',
  },
  {
    column: 'Update me on Supply Chain Content',
    trait: ['supply_chain_content_updates'],
    kind: 'yes-no',
  },
  {
    column: 'Get updates on DM Content',
    trait: ['dm_content_updates'],
    kind: 'yes-no',
  },
  {
    column: 'I agree to pay the amount through cheque',
    trait: ['pays_by_cheque'],
    kind: 'yes-no',
  },
  {
    column: 'A free copy of Mastering The Interview',
    trait: ['mastering_the_interview_copy'],
    kind: 'yes-no',
  },
];

export interface XEducationOptions {
  /** End of the synthetic time window, in epoch milliseconds. */
  referenceTime: number;
  /** Maximum page views per lead; @default DEFAULT_MAX_VISITS */
  maxVisits?: number;
  /**
   * Whether the `Converted` column is read and checked. A run that takes
   * its outcomes from elsewhere leaves it unread; @default true
   */
  readLabels?: boolean;
}

/** The messages of one row, or why the row was skipped. */
export type RowConversion =
  | {
      ok: true;
      leadId: string;
      /** The `Converted` label, kept out of every message. */
      converted?: boolean;
      messages: OutgoingMessage[];
    }
  | { ok: false; reason: string }
  /** A `Converted` value other than 0, 1 or blank, which no run may skip. */
  | { ok: false; invalidLabel: string };

/** A message before its id, user and time are set. */
interface MessageDraft {
  idSuffix: string;
  fields: OutgoingMessage;
}

/**
 * Converts one CSV row, keyed by column name, into the lead's messages in
 * time order. Message ids are `xed-<Prospect ID>-<suffix>`, so a second
 * replay of the file is reported as duplicates.
 */
export function convertXEducationRow(
  row: Readonly<Record<string, string>>,
  options: XEducationOptions,
): RowConversion {
  const leadId = row['Prospect ID']?.trim() ?? '';
  if (leadId === '') {
    return { ok: false, reason: 'the Prospect ID is empty' };
  }
  const converted =
    options.readLabels === false ? undefined : labelOf(row.Converted);
  if (converted === 'invalid') {
    return { ok: false, invalidLabel: row.Converted ?? '' };
  }
  const maxVisits = options.maxVisits ?? DEFAULT_MAX_VISITS;
  const drafts = [
    identifyDraft(row),
    ...visitDrafts(row, maxVisits),
    ...activityDrafts(row),
  ];
  const times = syntheticTimes(leadId, drafts.length, options.referenceTime);
  const messages = drafts.map((draft, index) => ({
    type: draft.fields.type,
    messageId: `xed-${leadId}-${draft.idSuffix}`,
    userId: leadId,
    timestamp: times[index],
    ...draft.fields,
  }));
  return {
    ok: true,
    leadId,
    ...(converted === undefined ? {} : { converted }),
    messages,
  };
}

function identifyDraft(row: Readonly<Record<string, string>>): MessageDraft {
  const traits: Record<string, unknown> = {};
  for (const { column, trait, kind } of TRAIT_COLUMNS) {
    const value = traitValue(row[column], kind);
    if (value !== undefined) setPath(traits, trait, value);
  }
  return { idSuffix: 'identify', fields: { type: 'identify', traits } };
}

function visitDrafts(
  row: Readonly<Record<string, string>>,
  maxVisits: number,
): MessageDraft[] {
  const visits = Math.floor(parseNonNegative(row.TotalVisits) ?? 0);
  const properties = visitProperties(row, visits);
  const drafts: MessageDraft[] = [];
  for (let visit = 1; visit <= Math.min(visits, maxVisits); visit += 1) {
    drafts.push({
      idSuffix: `visit-${visit}`,
      fields: {
        type: 'page',
        name: 'Website Visit',
        properties: { visit, ...properties },
      },
    });
  }
  return drafts;
}

/** Properties every page view of a lead carries, in the source units. */
function visitProperties(
  row: Readonly<Record<string, string>>,
  visits: number,
): Record<string, number> {
  const properties: Record<string, number> = { visits_total: visits };
  const seconds = parseNonNegative(row['Total Time Spent on Website']);
  if (seconds !== undefined) properties.total_time_on_site_seconds = seconds;
  const pagesPerVisit = parseNonNegative(row['Page Views Per Visit']);
  if (pagesPerVisit !== undefined) {
    properties.page_views_per_visit = pagesPerVisit;
  }
  return properties;
}

function activityDrafts(row: Readonly<Record<string, string>>): MessageDraft[] {
  const activity = answered(row['Last Activity']);
  if (activity === undefined || LEAKING_ACTIVITIES.has(activity)) {
    return [];
  }
  return [{ idSuffix: 'activity', fields: { type: 'track', event: activity } }];
}

function traitValue(
  raw: string | undefined,
  kind: TraitKind,
): string | boolean | undefined {
  const value = answered(raw);
  if (value === undefined) return undefined;
  switch (kind) {
    case 'text':
      return value;
    case 'lead-source':
      return normalizeLeadSource(value);
    case 'yes-no':
      return yesNo(value);
  }
}

/**
 * Returns the trimmed value, or undefined for a blank cell and for the
 * form's placeholder `Select`, which the form stores when the lead skipped
 * the question.
 */
export function answered(raw: string | undefined): string | undefined {
  const value = raw?.trim().replace(/\s+/g, ' ') ?? '';
  if (value === '' || value.toLowerCase() === 'select') {
    return undefined;
  }
  return value;
}

/**
 * Lower-cases a lead source, because the data set spells one source in
 * several ways (`Google` and `google`).
 */
export function normalizeLeadSource(value: string): string {
  return value.toLowerCase();
}

function yesNo(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  if (lower === 'yes') return true;
  if (lower === 'no') return false;
  return undefined;
}

/**
 * Reads a `Converted` cell: 1 or 0, or undefined for a blank cell, whose
 * outcome is not known.
 */
function labelOf(raw: string | undefined): boolean | undefined | 'invalid' {
  const value = raw?.trim() ?? '';
  if (value === '1') return true;
  if (value === '0') return false;
  if (value === '') return undefined;
  return 'invalid';
}

/** Parses a non-negative number; blank or invalid cells are undefined. */
function parseNonNegative(raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < 0) {
    return undefined;
  }
  return value;
}

function setPath(
  target: Record<string, unknown>,
  path: TraitColumn['trait'],
  value: unknown,
): void {
  const [first, second] = path;
  if (second === undefined) {
    target[first] = value;
    return;
  }
  const nested = (target[first] ?? {}) as Record<string, unknown>;
  nested[second] = value;
  target[first] = nested;
}

/**
 * Returns `count` ISO timestamps in time order. A hash of the lead id
 * picks the lead's first time in the window before the reference time,
 * and the messages are spaced evenly from there, all before the reference.
 */
export function syntheticTimes(
  leadId: string,
  count: number,
  referenceTime: number,
): string[] {
  const start = referenceTime - SYNTHETIC_WINDOW_MS * (1 - unitHash(leadId));
  const step = (referenceTime - start) / Math.max(count, 1);
  return Array.from({ length: count }, (_, index) =>
    new Date(Math.floor(start + step * index)).toISOString(),
  );
}

/** Maps a string to a number in [0, 1) that depends only on the string. */
function unitHash(text: string): number {
  const digest = createHash('sha256').update(text).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
