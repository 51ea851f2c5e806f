import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { logicalIdOf } from './logical-id.js';

export interface DecaySweepProps {
  /** Function that runs one sweep per invocation. */
  handler: IFunction;
  /** Time between two sweeps. @default Duration.minutes(5) */
  rate?: Duration;
}

/**
 * An EventBridge Scheduler schedule that invokes the decay sweep at a
 * fixed rate. Failed invocations are retried for one period at most,
 * because the next run reads every item that is still due.
 */
export class DecaySweep extends Construct {
  readonly schedule: Schedule;
  /** Time between two sweeps, as the schedule's rate expression sets it. */
  readonly rate: Duration;

  constructor(scope: Construct, id: string, props: DecaySweepProps) {
    super(scope, id);
    const rate = props.rate ?? Duration.minutes(5);
    this.rate = rate;
    const stack = Stack.of(this);
    // Scheduler sets aws:SourceArn to the ARN of the schedule group, not
    // of the schedule, and this schedule runs in the default group. The
    // two keys keep schedules of other accounts and groups from assuming
    // the role, as "Confused deputy prevention" in the EventBridge
    // Scheduler User Guide recommends.
    const scheduleGroupArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule-group',
      resourceName: 'default',
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': scheduleGroupArn,
          },
        },
      }),
      description: 'Invokes the decay sweep function on schedule.',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Runs the decay sweep of the lead-scoring engine.',
      schedule: ScheduleExpression.rate(rate),
      target: new LambdaInvoke(props.handler, {
        role,
        maxEventAge: rate,
        retryAttempts: 2,
        // The execution id becomes the correlation id of the run's logs.
        input: ScheduleTargetInput.fromObject({
          executionId: ContextAttribute.executionId,
          scheduledTime: ContextAttribute.scheduledTime,
        }),
      }),
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.handler)}.Arn>:*]`,
      reason:
        'Lambda invoke grants cover the function and its versions as <function ARN>:*, and the schedule invokes only the unqualified function.',
    });
  }
}
