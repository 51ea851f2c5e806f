import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  METRIC_NAMES,
  METRICS_NAMESPACE,
} from '../../functions/adapters/observability/metric-names.js';
import {
  MIN_REQUESTS_FOR_5XX_RATE,
  SWEEP_STALLED_INTERVALS,
  sweepStalledPeriod,
} from '../../lib/constructs/monitoring.js';
import { PROJECT_ROOT } from '../../lib/mql-engine-app.js';
import { loadStageConfig, type StageConfig } from '../../lib/stage-config.js';
import {
  type SynthesizedStage,
  synthesizeStage,
} from './support/synthesize.js';
import {
  resourceOfType,
  resourcesOfType,
  type TemplateResource,
} from './support/template.js';

const FUNCTIONS = ['ingest', 'leads', 'recycle', 'sweep'];

/** Alarm name suffixes of every stage, in the order the README lists them. */
const ALARM_SUFFIXES = [
  ...FUNCTIONS.flatMap((name) => [`${name}-errors`, `${name}-throttles`]),
  'sales-dead-letters',
  'outbox-age',
  'outbox-failed',
  'sweep-stalled',
  'api-5xx-rate',
];

const synthesized = new Map<string, SynthesizedStage>();

beforeAll(() => {
  for (const stage of ['dev', 'prod']) {
    synthesized.set(stage, synthesizeStage(stage, { bundle: false }));
  }
});

afterAll(() => {
  for (const stage of synthesized.values()) stage.cleanUp();
});

/** Returns the template of a stage synthesized for this file. */
function templateOf(stage: string): Template {
  const stack = synthesized.get(stage);
  if (stack === undefined) throw new Error(`Stage ${stage} was not built.`);
  return stack.template;
}

describe.each(['dev', 'prod'])('monitoring (%s)', (stage) => {
  let template: Template;
  let config: StageConfig;

  beforeAll(() => {
    template = templateOf(stage);
    config = loadStageConfig(stage, join(PROJECT_ROOT, 'config', 'stages'));
  });

  function alarm(suffix: string): TemplateResource {
    const name = `mql-engine-${stage}-${suffix}`;
    const found = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(
      (candidate) => candidate.Properties.AlarmName === name,
    );
    if (found === undefined) throw new Error(`No alarm ${name}.`);
    return found;
  }

  it('creates exactly the documented alarms', () => {
    const names = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(
      (resource) => resource.Properties.AlarmName,
    );

    expect(names.sort()).toEqual(
      ALARM_SUFFIXES.map((suffix) => `mql-engine-${stage}-${suffix}`).sort(),
    );
  });

  it.each(
    FUNCTIONS.flatMap((name) => [
      [name, 'errors', 'Errors'],
      [name, 'throttles', 'Throttles'],
    ]),
  )('alarms on %s %s', (name, suffix, metricName) => {
    const { Properties } = alarm(`${name}-${suffix}`);

    expect(Properties.Namespace).toBe('AWS/Lambda');
    expect(Properties.MetricName).toBe(metricName);
    expect(Properties.Dimensions).toEqual([
      {
        Name: 'FunctionName',
        Value: {
          Ref: expect.stringMatching(
            `^Functions${name.charAt(0).toUpperCase()}${name.slice(1)}`,
          ),
        },
      },
    ]);
    expect(Properties.Threshold).toBe(1);
    expect(Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
  });

  it('alarms on messages in the dead-letter queue', () => {
    const { Properties } = alarm('sales-dead-letters');

    expect(Properties.Namespace).toBe('AWS/SQS');
    expect(Properties.MetricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(Properties.Dimensions).toEqual([
      {
        Name: 'QueueName',
        Value: {
          'Fn::GetAtt': [
            expect.stringMatching(/^EventsSalesQueueDeadLetter/),
            'QueueName',
          ],
        },
      },
    ]);
    expect(Properties.Threshold).toBe(1);
  });

  it('alarms on the age of the oldest outbox entry', () => {
    const { Properties } = alarm('outbox-age');

    expect(Properties.Namespace).toBe(METRICS_NAMESPACE);
    expect(Properties.MetricName).toBe(METRIC_NAMES.outboxOldestAge);
    expect(Properties.Dimensions).toEqual([
      { Name: 'service', Value: 'mql-engine' },
      { Name: 'stage', Value: stage },
    ]);
    expect(Properties.Statistic).toBe('Maximum');
    expect(Properties.Threshold).toBe(config.alarms.outboxAgeMinutes * 60);
    expect(Properties.ComparisonOperator).toBe('GreaterThanThreshold');
  });

  it('alarms on any failed outbox entry', () => {
    const { Properties } = alarm('outbox-failed');

    expect(Properties.Namespace).toBe(METRICS_NAMESPACE);
    expect(Properties.MetricName).toBe(METRIC_NAMES.outboxFailed);
    expect(Properties.Statistic).toBe('Sum');
    expect(Properties.Threshold).toBe(1);
    expect(Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
  });

  it('alarms when the sweep stops running', () => {
    const { Properties } = alarm('sweep-stalled');

    expect(Properties.Namespace).toBe('AWS/Lambda');
    expect(Properties.MetricName).toBe('Invocations');
    expect(Properties.Dimensions).toEqual([
      {
        Name: 'FunctionName',
        Value: { Ref: expect.stringMatching(/^FunctionsSweep/) },
      },
    ]);
    expect(Properties.Statistic).toBe('Sum');
    expect(Properties.Period).toBe(
      SWEEP_STALLED_INTERVALS * config.sweepRateMinutes * 60,
    );
    expect(Properties.EvaluationPeriods).toBe(1);
    expect(Properties.Threshold).toBe(1);
    expect(Properties.ComparisonOperator).toBe('LessThanThreshold');
    expect(Properties.TreatMissingData).toBe('breaching');
  });

  it('treats missing data as OK elsewhere', () => {
    for (const suffix of ALARM_SUFFIXES) {
      if (suffix === 'sweep-stalled') continue;
      expect(alarm(suffix).Properties.TreatMissingData, suffix).toBe(
        'notBreaching',
      );
    }
  });

  it('shows every alarm on the dashboard', () => {
    const [dashboard] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');

    for (const [logicalId, resource] of Object.entries(alarms)) {
      expect(body, resource.Properties.AlarmName).toContain(
        `"${logicalId}","Arn"`,
      );
    }
  });

  it('alarms on the API 5xx rate', () => {
    const { Properties } = alarm('api-5xx-rate');
    const [expression, ...inputs] = Properties.Metrics;

    expect(expression.Expression).toBe(
      `IF(requests >= ${MIN_REQUESTS_FOR_5XX_RATE}, 100 * errors / requests, 0)`,
    );
    expect(
      inputs.map(
        (input: {
          Id: string;
          MetricStat: { Metric: { MetricName: string } };
        }) => [input.Id, input.MetricStat.Metric.MetricName],
      ),
    ).toEqual([
      ['errors', '5xx'],
      ['requests', 'Count'],
    ]);
    expect(Properties.Threshold).toBe(config.alarms.api5xxPercent);
  });

  it('points every alarm to its runbook', () => {
    for (const suffix of ALARM_SUFFIXES) {
      expect(alarm(suffix).Properties.AlarmDescription).toContain(
        `Runbook: README, Operations, alarm ${suffix}.`,
      );
    }
  });

  it('names the stage in the dashboard', () => {
    const [dashboard] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);

    // Dashboard names are global to the account, so the Region is in it.
    expect(dashboard?.Properties.DashboardName).toEqual({
      'Fn::Join': ['', [`mql-engine-${stage}-`, { Ref: 'AWS::Region' }]],
    });
    for (const name of Object.values(METRIC_NAMES)) {
      expect(body).toContain(name);
    }
  });
});

describe('sweepStalledPeriod', () => {
  it.each([
    [Duration.minutes(1), 180],
    [Duration.minutes(5), 900],
    [Duration.minutes(60), 10_800],
    [Duration.seconds(70), 240],
    [Duration.seconds(20), 60],
  ])('sizes %s as %i s', (rate, seconds) => {
    expect(sweepStalledPeriod(rate).toSeconds()).toBe(seconds);
  });

  it('rejects a period beyond one day', () => {
    expect(() => sweepStalledPeriod(Duration.hours(9))).toThrow(
      "exceeds CloudWatch's limit of one day",
    );
  });

  it('accepts a one-day period', () => {
    expect(sweepStalledPeriod(Duration.hours(8)).toSeconds()).toBe(86_400);
  });
});

/**
 * Returns the widgets of a template's dashboard. Every token of the body,
 * such as a queue name, becomes the string TOKEN.
 */
function dashboardWidgetsOf(
  template: Template,
): Array<{ type: string; properties: Record<string, unknown[]> }> {
  const dashboard = resourceOfType(template, 'AWS::CloudWatch::Dashboard');
  const [, parts] = dashboard.Properties.DashboardBody['Fn::Join'] as [
    string,
    unknown[],
  ];
  const body = parts
    .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
    .join('');
  return JSON.parse(body).widgets;
}

describe('dashboard of a stage with 60 queue targets', () => {
  const TARGETS = 60;
  /** CloudWatch's limit of metrics and expressions in one metric widget. */
  const MAX_WIDGET_METRICS = 100;
  let configDir: string;
  let stage: SynthesizedStage;

  beforeAll(() => {
    configDir = mkdtempSync(join(tmpdir(), 'mql-engine-targets-'));
    const targets = Array.from({ length: TARGETS }, (_, index) => ({
      type: 'queue',
      id: `queue-${index}`,
      description: `Queue ${index}.`,
      eventPattern: { 'detail-type': ['Lead Qualified'] },
    }));
    writeFileSync(
      join(configDir, 'many.json'),
      JSON.stringify({ events: { targets } }),
    );
    stage = synthesizeStage('many', { configDir, bundle: false });
  });

  afterAll(() => {
    stage?.cleanUp();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('keeps every widget within the metric limit', () => {
    const widgets = dashboardWidgetsOf(stage.template);

    for (const widget of widgets.filter(({ type }) => type === 'metric')) {
      expect(widget.properties.metrics?.length).toBeLessThanOrEqual(
        MAX_WIDGET_METRICS,
      );
    }
  });

  it('shows every queue and dead-letter queue', () => {
    const labels = dashboardWidgetsOf(stage.template)
      .flatMap((widget) => widget.properties.metrics ?? [])
      .map((metric) => JSON.stringify(metric));

    for (let index = 0; index < TARGETS; index++) {
      const queue = `Queue${index}Queue`;
      const deadLetters = `queue-${index} dead letters`;
      expect(
        labels.filter((label) => label.includes(`"${queue}"`)),
      ).toHaveLength(1);
      expect(
        labels.filter((label) => label.includes(deadLetters)),
      ).toHaveLength(1);
    }
  });
});

describe('alarm actions', () => {
  let dev: Template;
  let prod: Template;

  beforeAll(() => {
    dev = templateOf('dev');
    prod = templateOf('prod');
  });

  it('are absent in dev, which sets no topics or emails', () => {
    for (const alarm of resourcesOfType(dev, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
    expect(resourcesOfType(dev, 'AWS::SNS::Topic')).toHaveLength(0);
  });

  it('notify the prod topic on alarm and on recovery', () => {
    const topicRef = {
      Ref: expect.stringMatching(/^MonitoringAlarmTopic[0-9A-F]{8}$/),
    };

    for (const alarm of resourcesOfType(prod, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
      expect(alarm.Properties.OKActions).toEqual([topicRef]);
    }
  });

  it('subscribe the prod emails to an encrypted topic', () => {
    const [topic] = resourcesOfType(prod, 'AWS::SNS::Topic');
    const [key] = resourcesOfType(prod, 'AWS::KMS::Key');

    expect(topic?.Properties.TopicName).toBe('mql-engine-prod-alarms');
    expect(topic?.Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^MonitoringAlarmTopicKey/), 'Arn'],
    });
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    prod.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'mql-engine-alerts@example.com',
    });
  });

  it('let CloudWatch use the key for this stage only', () => {
    const [key] = resourcesOfType(prod, 'AWS::KMS::Key');
    const statement = key?.Properties.KeyPolicy.Statement.find(
      (candidate: { Principal: { Service?: string } }) =>
        candidate.Principal.Service === 'cloudwatch.amazonaws.com',
    );

    expect(statement.Condition.StringEquals).toEqual({
      'aws:SourceAccount': { Ref: 'AWS::AccountId' },
    });
    expect(JSON.stringify(statement.Condition.ArnLike)).toContain(
      ':alarm:mql-engine-prod-*',
    );
  });
});

describe('README', () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const operations = readme.slice(readme.indexOf('\n## Operations'));

  /** Returns the runbook heading of an alarm; function alarms share one. */
  function runbookHeading(suffix: string): string {
    const functionAlarm = new RegExp(
      `^(${FUNCTIONS.join('|')})-(errors|throttles)$`,
    );
    return `#### mql-engine-<stage>-${suffix.replace(functionAlarm, '<function>-$2')}`;
  }

  it('has an Operations section', () => {
    expect(readme).toContain('\n## Operations\n');
  });

  it.each(ALARM_SUFFIXES)('documents what to do when %s fires', (suffix) => {
    expect(operations).toContain(runbookHeading(suffix));
  });
});
