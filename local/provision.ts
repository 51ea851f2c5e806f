import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  createTableInput,
  TABLE_LAYOUT,
} from '../functions/adapters/dynamodb/table-layout.js';
import {
  DEFAULT_ROUTING_TARGETS,
  deadLetterQueueName,
  type RoutingTarget,
  resourceName,
  ruleOf,
} from '../lib/definitions/event-routing.js';
import { LOCAL_AWS } from './services.js';

/** Creates the lead table (if missing) and waits until it is active. */
export async function createLeadTable(
  endpoint: string,
  tableName: string,
): Promise<void> {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: {
          AttributeName: TABLE_LAYOUT.timeToLiveAttribute,
          Enabled: true,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: 30 },
    { TableName: tableName },
  );
  client.destroy();
}

/** The event bus and queue URLs created for a stage. */
export interface LocalRouting {
  eventBusName: string;
  /**
   * Queue URL by routing target id, such as `sales`. An API destination
   * target gets a stand-in queue: moto calls API destinations without the
   * event body, so the queue receives what the endpoint would.
   */
  queueUrls: Record<string, string>;
}

/**
 * Creates the stage's event bus, and for each routing target a queue,
 * its dead-letter queue and its rule, in moto from the same definitions
 * the CDK stack uses. Safe to run again on the same server.
 */
export async function createEventRouting(
  endpoint: string,
  stage: string,
  targets: readonly RoutingTarget[] = DEFAULT_ROUTING_TARGETS,
): Promise<LocalRouting> {
  const events = new EventBridgeClient({ ...LOCAL_AWS, endpoint });
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint });
  const eventBusName = resourceName(stage);
  try {
    await events.send(new CreateEventBusCommand({ Name: eventBusName }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  const queueUrls: Record<string, string> = {};
  for (const target of targets) {
    const name = resourceName(stage, target.id);
    const queue = await createQueue(sqs, name);
    const deadLetterQueue = await createQueue(sqs, deadLetterQueueName(name));
    queueUrls[target.id] = queue.url;
    const rule = ruleOf(target);
    const ruleName = resourceName(stage, rule.nameSuffix);
    await events.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: eventBusName,
        Description: rule.description,
        EventPattern: JSON.stringify(rule.eventPattern),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: eventBusName,
        Targets: [
          {
            Id: target.id,
            Arn: queue.arn,
            RetryPolicy: {
              MaximumRetryAttempts: target.retryPolicy.maximumRetryAttempts,
              MaximumEventAgeInSeconds:
                target.retryPolicy.maximumEventAgeSeconds,
            },
            DeadLetterConfig: { Arn: deadLetterQueue.arn },
          },
        ],
      }),
    );
  }
  events.destroy();
  sqs.destroy();
  return { eventBusName, queueUrls };
}

async function createQueue(
  sqs: SQSClient,
  queueName: string,
): Promise<{ url: string; arn: string }> {
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: queueName }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}
