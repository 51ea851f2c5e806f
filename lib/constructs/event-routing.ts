import { Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import {
  ApiDestination,
  Authorization,
  Connection,
  EventBus,
  type EventPattern,
  HttpMethod,
  HttpParameter,
  type IRuleTarget,
  Rule,
} from 'aws-cdk-lib/aws-events';
import {
  ApiDestination as ApiDestinationTarget,
  SqsQueue,
} from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';

import { Construct } from 'constructs';
import {
  type ApiDestinationTarget as ApiDestinationDefinition,
  CONNECTION_DESCRIPTION_PREFIX,
  DEFAULT_ROUTING_TARGETS,
  deadLetterQueueName,
  EVENT_SOURCE,
  type QueueTarget,
  queueOf,
  type RoutingTarget,
  resourceName,
  ruleOf,
} from '../definitions/event-routing.js';

export interface EventRoutingProps {
  /** Stage name, part of every resource name. */
  stageName: string;
  /** Targets of routed events. @default DEFAULT_ROUTING_TARGETS */
  targets?: readonly RoutingTarget[];
  /** Days the archive keeps published events for replay. @default 400 */
  archiveRetentionDays?: number;
}

/** A dead-letter queue with the id of the target it belongs to. */
export interface TargetDeadLetterQueue {
  targetId: string;
  queue: Queue;
}

/** Receive attempts before a message moves to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;

/**
 * The stage's event bus with an archive for replay, and one rule per
 * routing target of the stage configuration. A queue target gets a queue
 * whose dead-letter queue also takes events the rule could not deliver.
 * An API destination target gets a connection, the destination and its
 * own dead-letter queue. Queues are encrypted (SSE-SQS) and reject
 * requests without TLS.
 */
export class EventRouting extends Construct {
  readonly eventBus: EventBus;
  /** Dead-letter queue of every target, in target order. */
  readonly deadLetterQueues: TargetDeadLetterQueue[] = [];
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
    for (const target of props.targets ?? DEFAULT_ROUTING_TARGETS) {
      const ruleTarget =
        target.type === 'queue'
          ? this.queueTarget(props.stageName, target)
          : this.apiDestinationTarget(props.stageName, target);
      const rule = ruleOf(target);
      new Rule(this, rule.id, {
        ruleName: resourceName(props.stageName, rule.nameSuffix),
        description: rule.description,
        eventBus: this.eventBus,
        eventPattern: toEventPattern(rule.eventPattern),
        targets: [ruleTarget],
      });
    }
  }

  /** Returns the queue created for the queue target with this id. */
  queue(id: string): Queue {
    const queue = this.queuesById.get(id);
    if (queue === undefined) {
      throw new Error(`No queue target is defined with id ${id}.`);
    }
    return queue;
  }

  private queueTarget(stageName: string, target: QueueTarget): IRuleTarget {
    const definition = queueOf(target);
    const name = resourceName(stageName, definition.nameSuffix);
    const deadLetterQueue = this.deadLetterQueue(
      `${definition.id}DeadLetter`,
      deadLetterQueueName(name),
    );
    const queue = new Queue(this, definition.id, {
      queueName: name,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: {
        queue: deadLetterQueue,
        maxReceiveCount: MAX_RECEIVE_COUNT,
      },
    });
    this.queuesById.set(target.id, queue);
    this.deadLetterQueues.push({ targetId: target.id, queue: deadLetterQueue });
    return new SqsQueue(queue, retryProps(target, deadLetterQueue));
  }

  private apiDestinationTarget(
    stageName: string,
    target: ApiDestinationDefinition,
  ): IRuleTarget {
    const id = ruleOf(target).id.replace(/Rule$/, '');
    const name = resourceName(stageName, target.id);
    const connection = new Connection(this, `${id}Connection`, {
      connectionName: name,
      description: `${CONNECTION_DESCRIPTION_PREFIX}${target.description}`,
      authorization: authorizationOf(target),
    });
    const destination = new ApiDestination(this, `${id}Destination`, {
      apiDestinationName: name,
      description: target.description,
      connection,
      endpoint: target.endpoint,
      httpMethod: HttpMethod[target.httpMethod],
      rateLimitPerSecond: target.rateLimitPerSecond,
    });
    const deadLetterQueue = this.deadLetterQueue(
      `${id}DeadLetter`,
      deadLetterQueueName(name),
    );
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the API destination target: the rule sends it the events the endpoint did not accept.',
    });
    this.deadLetterQueues.push({ targetId: target.id, queue: deadLetterQueue });
    return new ApiDestinationTarget(destination, {
      ...retryProps(target, deadLetterQueue),
      eventRole: this.invokeRole(`${id}Invoke`, stageName, target),
    });
  }

  /**
   * Creates the role that the target's rule assumes to call its API
   * destination. Its trust policy names the account and the rule, because
   * "Cross-service confused deputy prevention in Amazon EventBridge" (the
   * EventBridge User Guide) gives the rule ARN as a rule target's
   * `aws:SourceArn`. The ARN is built from the rule's name, since a
   * reference to the rule would make the rule and the role depend on
   * each other.
   */
  private invokeRole(
    id: string,
    stageName: string,
    target: ApiDestinationDefinition,
  ): Role {
    const stack = Stack.of(this);
    const busName = resourceName(stageName);
    const ruleName = resourceName(stageName, ruleOf(target).nameSuffix);
    return new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: `${busName}/${ruleName}`,
            }),
          },
        },
      }),
      description: `Calls the API destination of the ${target.id} target.`,
    });
  }

  private deadLetterQueue(id: string, queueName: string): Queue {
    return new Queue(this, id, {
      queueName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }
}

function retryProps(target: RoutingTarget, deadLetterQueue: Queue) {
  return {
    deadLetterQueue,
    retryAttempts: target.retryPolicy.maximumRetryAttempts,
    maxEventAge: Duration.seconds(target.retryPolicy.maximumEventAgeSeconds),
  };
}

/**
 * Returns the connection's authorization. Secret values are read by
 * CloudFormation from Secrets Manager at deploy time, so they never
 * appear in the template.
 */
function authorizationOf(target: ApiDestinationDefinition): Authorization {
  const { auth } = target;
  if (auth.type === 'api-key') {
    return Authorization.apiKey(
      auth.headerName,
      SecretValue.secretsManager(auth.secretName),
    );
  }
  const body: Record<string, HttpParameter> = {
    grant_type: HttpParameter.fromString('client_credentials'),
  };
  if (auth.scopes.length > 0) {
    body.scope = HttpParameter.fromString(auth.scopes.join(' '));
  }
  return Authorization.oauth({
    authorizationEndpoint: auth.authorizationEndpoint,
    httpMethod: HttpMethod.POST,
    clientId: auth.clientId,
    clientSecret: SecretValue.secretsManager(auth.clientSecretName),
    bodyParameters: body,
  });
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
