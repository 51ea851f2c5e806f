import { parse } from 'csv-parse/sync';

/**
 * Converts the Maven Analytics CRM sample (accounts.csv and
 * sales_pipeline.csv) into Segment messages. Each opportunity becomes a
 * lead whose group call names its account, with the account's
 * firmographics as group traits. Its engage date becomes a "Meeting
 * Booked" event. The data has no contacts or titles,
 * so no lead has a buying-group role.
 */

export interface MavenAccount {
  name: string;
  sector: string;
  employees: number;
  revenueMillions: number;
  country: string;
}

export interface MavenOpportunity {
  id: string;
  account: string;
  stage: string;
  engageDate: string;
}

/** The converted messages and what was left out. */
export interface MavenMessages {
  messages: Record<string, unknown>[];
  opportunities: number;
  /** Opportunities without an account, which roll up nowhere. */
  withoutAccount: number;
  /** Time the messages are shifted by, so the latest lands at `asOf`. */
  shiftMs: number;
}

/** Columns of accounts.csv that the conversion reads. */
export const ACCOUNT_COLUMNS = [
  'account',
  'sector',
  'employees',
  'revenue',
  'office_location',
] as const;

/** Columns of sales_pipeline.csv that the conversion reads. */
export const OPPORTUNITY_COLUMNS = [
  'opportunity_id',
  'account',
  'deal_stage',
  'engage_date',
] as const;

/**
 * Returns the columns of `required` that the header, the first line of
 * `csv`, lacks. An empty text lacks every column.
 */
export function missingColumns(
  csv: string,
  required: readonly string[],
): string[] {
  const [header = []] = parse(csv, {
    bom: true,
    trim: true,
    to_line: 1,
    relax_column_count: true,
  }) as string[][];
  return required.filter((column) => !header.includes(column));
}

export function parseAccounts(csv: string): MavenAccount[] {
  const rows = parse(csv, { columns: true, bom: true, trim: true }) as Record<
    string,
    string
  >[];
  return rows.map((row) => ({
    name: row.account ?? '',
    sector: row.sector ?? '',
    employees: Number(row.employees),
    revenueMillions: Number(row.revenue),
    country: row.office_location ?? '',
  }));
}

export function parseOpportunities(csv: string): MavenOpportunity[] {
  const rows = parse(csv, { columns: true, bom: true, trim: true }) as Record<
    string,
    string
  >[];
  return rows.map((row) => ({
    id: row.opportunity_id ?? '',
    account: row.account ?? '',
    stage: row.deal_stage ?? '',
    engageDate: row.engage_date ?? '',
  }));
}

/** Returns the account id a group call with this account's name forms. */
export function mavenAccountId(name: string): string {
  return `group:${name}`;
}

/**
 * Converts accounts and opportunities into messages, shifting every
 * engage date by the same amount so that the latest one is `asOf`.
 */
export function mavenMessages(
  accounts: readonly MavenAccount[],
  opportunities: readonly MavenOpportunity[],
  asOf: number,
): MavenMessages {
  const byName = new Map(accounts.map((account) => [account.name, account]));
  const dates = opportunities
    .map((opportunity) => Date.parse(opportunity.engageDate))
    .filter((time) => Number.isFinite(time));
  const shiftMs = dates.length === 0 ? 0 : asOf - Math.max(...dates);
  const messages: Record<string, unknown>[] = [];
  let withoutAccount = 0;
  for (const opportunity of opportunities) {
    const account = byName.get(opportunity.account);
    if (account === undefined || opportunity.id === '') {
      withoutAccount += 1;
      continue;
    }
    const userId = `maven-opportunity-${opportunity.id}`;
    const engagedAt = Date.parse(opportunity.engageDate);
    const time = Number.isFinite(engagedAt)
      ? new Date(engagedAt + shiftMs).toISOString()
      : new Date(asOf).toISOString();
    messages.push({
      type: 'group',
      messageId: `${userId}-group`,
      userId,
      groupId: account.name,
      timestamp: time,
      traits: {
        name: account.name,
        industry: account.sector,
        employee_count: account.employees,
        annual_revenue: account.revenueMillions * 1_000_000,
        country: account.country,
      },
    });
    if (Number.isFinite(engagedAt)) {
      messages.push({
        type: 'track',
        messageId: `${userId}-meeting`,
        userId,
        event: 'Meeting Booked',
        timestamp: time,
        properties: { stage: opportunity.stage },
      });
    }
  }
  return {
    messages,
    opportunities: opportunities.length,
    withoutAccount,
    shiftMs,
  };
}
