import { Duration } from 'aws-cdk-lib';
import { EventBus, type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  EVENT_SOURCE,
  QUEUES,
  type QueueDefinition,
  RULES,
  type RuleDefinition,
  resourceName,
} from '../definitions/event-routing.js';

export interface EventRoutingProps {
  /** Stage name, part of every resource name. */
  stageName: string;
  /** Queues to create. @default QUEUES */
  queues?: readonly QueueDefinition[];
  /** Rules from the bus to the queues. @default RULES */
  rules?: readonly RuleDefinition[];
  /** Days the archive keeps published events for replay. @default 400 */
  archiveRetentionDays?: number;
}

/** Receive attempts before a message moves to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;

/**
 * The stage's event bus with an archive for replay, and the queues and
 * rules of the shared routing definitions. Each rule delivers to its
 * queue, and each queue moves poison messages to its own dead-letter
 * queue. Queues are encrypted (SSE-SQS) and reject requests without TLS.
 */
export class EventRouting extends Construct {
  readonly eventBus: EventBus;
  private readonly queuesById = new Map<string, Queue>();

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    this.eventBus = new EventBus(this, 'Bus', {
      eventBusName: resourceName(props.stageName),
    });
    this.eventBus.archive('Archive', {
      description: 'Events the engine published, kept for replay.',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(props.archiveRetentionDays ?? 400),
    });
    for (const queue of props.queues ?? QUEUES) {
      this.createQueue(props.stageName, queue);
    }
    for (const rule of props.rules ?? RULES) {
      this.createRule(props.stageName, rule);
    }
  }

  /** Returns the queue created from the definition with this id. */
  queue(id: string): Queue {
    const queue = this.queuesById.get(id);
    if (queue === undefined) {
      throw new Error(`No queue is defined with id ${id}.`);
    }
    return queue;
  }

  private createQueue(stageName: string, definition: QueueDefinition): void {
    const name = resourceName(stageName, definition.nameSuffix);
    const deadLetterQueue = new Queue(this, `${definition.id}DeadLetter`, {
      queueName: `${name}-dlq`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(this, definition.id, {
      queueName: name,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: deadLetterQueue,
        maxReceiveCount: MAX_RECEIVE_COUNT,
      },
    });
    this.queuesById.set(definition.id, queue);
  }

  private createRule(stageName: string, definition: RuleDefinition): void {
    const queue = this.queue(definition.targetQueueId);
    new Rule(this, definition.id, {
      ruleName: resourceName(stageName, definition.nameSuffix),
      description: definition.description,
      eventBus: this.eventBus,
      eventPattern: toEventPattern(definition.eventPattern),
      targets: [
        new SqsQueue(queue, {
          deadLetterQueue: queue.deadLetterQueue?.queue,
        }),
      ],
    });
  }
}

/**
 * Converts a pattern in EventBridge's JSON syntax to the CDK's
 * EventPattern, which calls `detail-type` `detailType` and renders it back
 * when it writes the template. Every other key passes through unchanged.
 */
function toEventPattern(pattern: Record<string, unknown>): EventPattern {
  const { 'detail-type': detailType, ...rest } = pattern;
  const converted = detailType === undefined ? rest : { ...rest, detailType };
  return converted as EventPattern;
}
