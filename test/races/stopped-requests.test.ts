import { describe, expect, it } from 'vitest';
import type { LeadChange } from '../../functions/ports/lead-repository.js';
import { eraseLead } from '../../functions/use-cases/erase-lead.js';
import { getLead } from '../../functions/use-cases/get-lead.js';
import { blog, demo, identify } from '../fixtures/erasure-leads.js';
import { accountModel } from '../fixtures/models.js';
import { realDependencies } from '../support/dependencies.js';
import { holdNextCall } from '../support/held-call.js';
import {
  ingestFromWeb,
  ingestRetrying,
  type RaceSetup,
  scanTable,
  tableViolations,
} from './support/table-check.js';

/** Raised by a write that a test fails, as a Lambda timeout ends it. */
class StoppedError extends Error {
  constructor() {
    super('The function stopped before this write.');
  }
}

/**
 * Makes the next lead write that `matches` accepts fail before it
 * reaches the table, as when the function stops there. Later writes run.
 */
function stopBeforeNextWrite(
  repository: { saveLeadChange: (change: LeadChange) => Promise<void> },
  matches: (change: LeadChange) => boolean,
): { stopped: () => boolean } {
  const original = repository.saveLeadChange.bind(repository);
  let stopped = false;
  repository.saveLeadChange = async (change) => {
    if (stopped || !matches(change)) return original(change);
    stopped = true;
    repository.saveLeadChange = original;
    throw new StoppedError();
  };
  return { stopped: () => stopped };
}

/**
 * Links `anonymous` to `lead`, then sends a message that restates the
 * link in a request that stops before it links the ids again. The
 * request finds the link made, then an erasure deletes the lead and the
 * link before the request stores its message on a new lead. Returns the
 * restating messages, for the retry.
 */
async function stopRestatementAfterErasure(
  setup: RaceSetup,
  anonymous: string,
  lead: string,
) {
  const { repository } = setup.deps;
  await ingestRetrying(setup, [
    demo({ anonymousId: anonymous }, 'anonymous-demo'),
    blog({ userId: lead }, 'lead-blog'),
  ]);
  await ingestRetrying(setup, [identify(lead, 'CFO', anonymous)]);
  const restated = [
    demo({ userId: lead, anonymousId: anonymous }, 'restated-demo'),
  ];

  const stop = stopBeforeNextWrite(
    repository,
    (change) => change.state.leadId === `anon:${anonymous}`,
  );
  const writing = holdNextCall(repository, 'saveLeadChange', {
    when: 'before',
    matches: (change) => change.state.leadId === lead,
  });
  const stopping = ingestFromWeb(setup, restated);
  await writing.reached;
  await eraseLead(setup.deps, lead);
  writing.release();
  await expect(stopping).rejects.toBeInstanceOf(StoppedError);
  expect(stop.stopped()).toBe(true);
  return restated;
}

describe('request stopped and retried', () => {
  it('relinks after erasure on retry', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-stopped';
    const lead = 'stopped@acme.example';
    const restated = await stopRestatementAfterErasure(setup, anonymous, lead);
    expect(await repository.getLead(`anon:${anonymous}`)).toBeUndefined();

    const retried = await ingestRetrying(setup, restated);

    expect(retried.counts.duplicate).toBe(1);
    const view = await getLead(setup.deps, `anon:${anonymous}`);
    expect(view.leadId).toBe(lead);
    expect(view.requestedLeadId).toBe(`anon:${anonymous}`);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
  });

  it('relinks to a merge still moving events', async () => {
    const setup = await realDependencies({ model: accountModel() });
    const { repository } = setup.deps;
    const anonymous = 'browser-moving';
    const lead = 'moving@acme.example';
    const restated = await stopRestatementAfterErasure(setup, anonymous, lead);

    // The new lead is merged into a CRM id by a request that stops
    // before it moves the restated message there.
    const moveStop = stopBeforeNextWrite(repository, (change) =>
      change.events.some((record) => record.movedFrom !== undefined),
    );
    const alias = {
      type: 'alias',
      messageId: 'moving-alias',
      userId: 'crm-9',
      previousId: lead,
    };
    await expect(ingestFromWeb(setup, [alias])).rejects.toBeInstanceOf(
      StoppedError,
    );
    expect(moveStop.stopped()).toBe(true);

    await ingestRetrying(setup, restated);

    const view = await getLead(setup.deps, `anon:${anonymous}`);
    expect(view.leadId).toBe('crm-9');
    expect(view.requestedLeadId).toBe(`anon:${anonymous}`);
    const items = await scanTable(setup);
    expect(tableViolations(items)).toEqual([]);
  });
});
