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
  QUEUES,
  RULES,
  resourceName,
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
  /** Queue URL by queue definition id, such as `SalesQueue`. */
  queueUrls: Record<string, string>;
}

/**
 * Creates the stage's event bus, queues and rules in moto from the same
 * definitions the CDK stack uses. Safe to run again on the same server.
 */
export async function createEventRouting(
  endpoint: string,
  stage: string,
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
  const queueArns: Record<string, string> = {};
  for (const queue of QUEUES) {
    const { QueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: resourceName(stage, queue.nameSuffix),
      }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['QueueArn'],
      }),
    );
    queueUrls[queue.id] = QueueUrl;
    queueArns[queue.id] = Attributes?.QueueArn ?? '';
  }
  for (const rule of RULES) {
    const name = resourceName(stage, rule.nameSuffix);
    await events.send(
      new PutRuleCommand({
        Name: name,
        EventBusName: eventBusName,
        Description: rule.description,
        EventPattern: JSON.stringify(rule.eventPattern),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: name,
        EventBusName: eventBusName,
        Targets: [
          { Id: rule.targetQueueId, Arn: queueArns[rule.targetQueueId] },
        ],
      }),
    );
  }
  events.destroy();
  sqs.destroy();
  return { eventBusName, queueUrls };
}
