import type { ReplayApiClient } from './api-client.js';
import type { LabelledLead } from './evaluation.js';
import { forEachConcurrently } from './pool.js';
import type { Progress } from './progress.js';

/** Final scores of labelled leads, and the leads the API did not find. */
export interface FinalScores {
  leads: LabelledLead[];
  /** Labelled leads the leads API returned 404 for. */
  missing: number;
}

/**
 * Reads the current score and status of every labelled lead from the
 * leads API, with at most `concurrency` requests at once.
 */
export async function fetchFinalScores(
  client: ReplayApiClient,
  labels: ReadonlyMap<string, boolean>,
  concurrency: number,
  progress: Progress,
): Promise<FinalScores> {
  const result: FinalScores = { leads: [], missing: 0 };
  let done = 0;
  const fetchOne = async ([leadId, converted]: [string, boolean]) => {
    const view = await client.getLead(leadId);
    if (view === undefined) {
      result.missing += 1;
    } else {
      result.leads.push({ score: view.score, status: view.status, converted });
    }
    done += 1;
    progress.update(done / labels.size, `${done} of ${labels.size} leads`);
  };
  await forEachConcurrently(toAsync(labels), concurrency, fetchOne);
  progress.done(`${done} of ${labels.size} leads`);
  return result;
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
