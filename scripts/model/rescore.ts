import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { stateKey } from '../../functions/adapters/dynamodb/items.js';
import { TABLE_LAYOUT } from '../../functions/adapters/dynamodb/table-layout.js';
import type { ScoringModel } from '../../functions/domain/model.js';
import { clientConfig } from '../local-endpoint.js';
import { requireRegion, tableAccessError } from '../table-access.js';
import {
  type AccountStateSummary,
  markAccountState,
  markAccountsWithoutState,
  markItemDue,
} from './rescore-accounts.js';

/** Settings of `npm run model -- rescore`. */
export interface RescoreOptions {
  /** The model the functions now run. */
  model: ScoringModel;
  tableName: string;
  /** `--table` or TABLE_NAME, named in errors; unset for the default. */
  tableSource?: string;
  endpoint?: string;
  /** `--endpoint` or AWS_ENDPOINT_URL_DYNAMODB, named in errors. */
  endpointSource?: string;
  /** Review time written on the marked leads and accounts, epoch ms. */
  now: number;
}

/** Counts of one rescore run. */
export interface RescoreResult {
  /** Lead states read. */
  leads: number;
  /** Leads last scored by another model, now due for the sweep. */
  marked: number;
  /** Accounts with a stored state or a member. */
  accounts: number;
  /**
   * Accounts now due for the sweep: those whose state another model
   * stored, and those without a state that meet the new model's rule.
   */
  accountsMarked: number;
}

/**
 * Makes every lead that another model scored last due for the sweep at
 * `now`, so that the sweep stores and publishes the status change the
 * new model makes, such as a lead that now reaches the threshold.
 * Without it such a lead changes only at its next write, because the
 * sweep reads only leads with a review time. Accounts are made due in
 * the same way (see rescore-accounts.ts), so that an account that the
 * new model qualifies gets its "Account Qualified". Scans the whole
 * table, as backtest does, because no index lists items that have no
 * review time. A lead or account that a writer changes between the scan
 * and the mark is left alone: that writer checked it under the model it
 * runs.
 */
export async function markLeadsForRescore(
  options: RescoreOptions,
): Promise<RescoreResult> {
  const client = new DynamoDBClient(clientConfig(options.endpoint));
  try {
    await requireRegion(client);
    return await markItems(client, options).catch((error: unknown) => {
      throw tableAccessError(error, options.tableName, options.endpoint, {
        table: options.tableSource,
        endpoint: options.endpointSource,
      });
    });
  } finally {
    client.destroy();
  }
}

async function markItems(
  client: DynamoDBClient,
  options: RescoreOptions,
): Promise<RescoreResult> {
  const result: RescoreResult = {
    leads: 0,
    marked: 0,
    accounts: 0,
    accountsMarked: 0,
  };
  const withState = new Set<string>();
  const withMembers = new Set<string>();
  const pages = paginateScan(
    { client },
    {
      TableName: options.tableName,
      // Tombstones of merged leads and leads held for erasure take no
      // review of their own.
      FilterExpression:
        '(#entity = :lead AND #sk = :state AND ' +
        'attribute_not_exists(mergedInto) AND ' +
        'attribute_not_exists(erasureHeldUntil)) OR ' +
        '#entity = :account OR #entity = :member',
      ProjectionExpression:
        '#entity, leadId, accountId, #version, #last.#model, #model, ' +
        'nextReviewAt',
      ExpressionAttributeNames: {
        '#entity': 'entity',
        '#sk': TABLE_LAYOUT.sortKey,
        '#version': 'version',
        '#last': 'lastScore',
        '#model': 'modelVersion',
      },
      ExpressionAttributeValues: marshall({
        ':lead': 'lead',
        ':state': 'STATE',
        ':account': 'account',
        ':member': 'member',
      }),
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const fields = unmarshall(item);
      if (fields.entity === 'member') {
        withMembers.add(String(fields.accountId));
      } else if (fields.entity === 'account') {
        const state = fields as AccountStateSummary;
        withState.add(state.accountId);
        // A state without a model version counts as another model's.
        if (state.modelVersion === options.model.version) continue;
        if (await markAccountState(client, options, state)) {
          result.accountsMarked += 1;
        }
      } else {
        const lead = fields as StateSummary;
        result.leads += 1;
        if (lead.lastScore?.modelVersion === options.model.version) continue;
        if (await markDue(client, options, lead)) result.marked += 1;
      }
    }
  }
  // NOTE: the ids of all accounts are kept in memory until the scan ends,
  // because a state and the members of its account can come on any page.
  const withoutState = [...withMembers].filter((id) => !withState.has(id));
  result.accounts = withState.size + withoutState.length;
  result.accountsMarked += await markAccountsWithoutState(
    client,
    options,
    withoutState,
  );
  return result;
}

interface StateSummary {
  leadId: string;
  version: number;
  lastScore?: { modelVersion?: string };
  nextReviewAt?: number;
}

/**
 * Sets the lead's review time to `now` under the version the scan read,
 * raising the version so that a writer that read the lead before retries
 * on the marked state. Returns false when the lead changed or is due
 * already. The next write of the lead moves it to its own shard.
 */
async function markDue(
  client: DynamoDBClient,
  options: RescoreOptions,
  lead: StateSummary,
): Promise<boolean> {
  return markItemDue(
    client,
    options,
    stateKey(lead.leadId),
    lead,
    '#version = :version AND attribute_not_exists(mergedInto) AND ' +
      'attribute_not_exists(erasureHeldUntil)',
  );
}
