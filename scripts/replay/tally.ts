import type { LeadStatus } from '../../functions/domain/lead.js';
import type { BatchResponse } from './api-client.js';
import type { Batch, BatchItem } from './batches.js';
import type { InputIssue } from './records.js';

/** Examples kept of each kind of problem; the rest are only counted. */
export const MAX_EXAMPLES = 5;

/** A message that was not scored, and why. */
export interface Rejection {
  /** Place in the input file, such as `line 12`. */
  origin: string;
  messageId?: string;
  reason: string;
}

/** Counts of a replay so far. */
export interface ReplayCounts {
  /** Input lines or rows skipped because they could not be read. */
  skippedLines: number;
  /** Messages sent to the API. */
  sent: number;
  scored: number;
  duplicates: number;
  /** Messages the API rejected, plus those too large to send. */
  rejected: number;
  /**
   * Outgoing events (such as Lead Qualified) published, and pending. Null
   * when the API's responses leave them out.
   */
  eventsPublished: number | null;
  eventsPending: number | null;
}

interface LeadState {
  status: LeadStatus;
  /** Stored version of the lead the status belongs to. */
  version: number;
}

/** Accumulates the outcome of every batch and input issue. */
export class ReplayTally {
  readonly counts: ReplayCounts = {
    skippedLines: 0,
    sent: 0,
    scored: 0,
    duplicates: 0,
    rejected: 0,
    eventsPublished: null,
    eventsPending: null,
  };
  readonly skippedExamples: InputIssue[] = [];
  readonly rejectionExamples: Rejection[] = [];
  private readonly leads = new Map<string, LeadState>();
  /** Whether a response listed its leads; a `counts` stage omits them. */
  private leadsReported = false;

  recordSkippedLine(issue: InputIssue): void {
    this.counts.skippedLines += 1;
    keepExample(this.skippedExamples, issue);
  }

  recordOversized(item: BatchItem, bytes: number): void {
    this.counts.rejected += 1;
    keepExample(this.rejectionExamples, {
      origin: item.origin,
      reason:
        `the message has ${bytes} bytes and does not fit in one ` +
        'request body',
    });
  }

  recordBatch(batch: Batch, result: BatchResponse): void {
    this.counts.sent += batch.items.length;
    this.counts.scored += result.counts.scored;
    this.counts.duplicates += result.counts.duplicate;
    this.counts.rejected += result.counts.rejected;
    if (result.events !== undefined) {
      this.counts.eventsPublished =
        (this.counts.eventsPublished ?? 0) + result.events.published;
      this.counts.eventsPending =
        (this.counts.eventsPending ?? 0) + result.events.pending;
    }
    this.recordRejections(batch, result);
    this.recordLeads(result);
  }

  /**
   * Number of distinct leads the API reported scores for, or null when
   * its responses leave leads out (`trackingResponse` is `counts`).
   */
  get leadCount(): number | null {
    return this.leadsReported ? this.leads.size : null;
  }

  /**
   * Number of leads whose newest reported status is MQL: of the
   * responses for a lead, the one with the highest stored version, so
   * batches that finish out of order do not change the count. Null when
   * the responses leave leads out.
   */
  get mqlCount(): number | null {
    if (!this.leadsReported) return null;
    let count = 0;
    for (const lead of this.leads.values()) {
      if (lead.status === 'mql') count += 1;
    }
    return count;
  }

  private recordRejections(batch: Batch, result: BatchResponse): void {
    for (const entry of result.results) {
      if (entry.status !== 'rejected') continue;
      if (this.rejectionExamples.length >= MAX_EXAMPLES) return;
      const reason = entry.errors
        .map((issue) => `${issue.field}: ${issue.message}`)
        .join('; ');
      this.rejectionExamples.push({
        origin: batch.items[entry.index]?.origin ?? 'unknown',
        ...(entry.messageId === undefined
          ? {}
          : { messageId: entry.messageId }),
        reason,
      });
    }
  }

  private recordLeads(result: Pick<BatchResponse, 'leads'>): void {
    if (result.leads === undefined) return;
    this.leadsReported = true;
    for (const lead of result.leads) {
      const known = this.leads.get(lead.leadId);
      if (known !== undefined && known.version > lead.version) continue;
      this.leads.set(lead.leadId, {
        status: lead.status,
        version: lead.version,
      });
    }
  }
}

function keepExample<T>(examples: T[], example: T): void {
  if (examples.length < MAX_EXAMPLES) examples.push(example);
}
