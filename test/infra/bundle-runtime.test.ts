import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LAYER_MODULES_DIR } from '../../lib/constructs/xray-sdk-layer.js';
import { SALES_TARGET } from '../../lib/definitions/event-routing.js';
import { LOCAL_AWS } from '../../local/services.js';
import { eventV2, routeEvent } from '../fixtures/api-gateway-events.js';
import { qualifyingBatch } from '../fixtures/messages.js';
import { createTestRouting, createTestTable } from '../support/aws.js';
import {
  createWriteKeySecret,
  secretsClient,
  writeKeySecretValue,
} from '../support/secrets.js';
import { basicAuth } from '../support/tracking-api.js';
import { type BundleResult, invokeBundle } from './support/bundle.js';
import {
  assetDirectory,
  layerDirectory,
  type SynthesizedStage,
  synthesizeStage,
} from './support/synthesize.js';
import {
  resourceOfType,
  resourceWithIdPrefix,
  type TemplateResource,
} from './support/template.js';

interface HttpResult {
  statusCode: number;
  body: string;
}

const WRITE_KEY = 'bundle-write-key';
const LEAD_ID = 'bundle-cpo@acme.example';

/**
 * The dev stage's Lambda bundles, as CDK builds them, run one request
 * each in a new Node process with the environment the stack gives them.
 * Only the resources the stack would create come from the local stand-ins:
 * the table from DynamoDB Local, the bus, queue and write key secret from
 * moto.
 */
describe('the synthesized Lambda bundles', () => {
  let synthesized: SynthesizedStage;
  let environments: Map<string, Record<string, string>>;
  let layerModules: string;
  let routing: Awaited<ReturnType<typeof createTestRouting>>;

  beforeAll(async () => {
    synthesized = synthesizeStage('dev');
    const { template } = synthesized;
    const layer = resourceOfType(template, 'AWS::Lambda::LayerVersion');
    layerModules = join(layerDirectory(synthesized, layer), LAYER_MODULES_DIR);

    const table = await createTestTable();
    routing = await createTestRouting();
    const secretName = await createWriteKeySecret(
      secretsClient(),
      writeKeySecretValue([{ sourceId: 'website', key: WRITE_KEY }]),
    );
    const motoEndpoint = inject('motoEndpoint');
    const local = {
      AWS_REGION: LOCAL_AWS.region,
      TABLE_NAME: table.tableName,
      EVENT_BUS_NAME: routing.eventBusName,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
      AWS_ENDPOINT_URL_EVENTBRIDGE: motoEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: motoEndpoint,
    };
    environments = new Map();
    for (const name of ['Ingest', 'Leads', 'Recycle', 'Sweep']) {
      const fn = functionNamed(name);
      environments.set(name, {
        ...stackEnvironment(fn),
        ...local,
        ...(name === 'Ingest' ? { WRITE_KEY_SECRET_NAME: secretName } : {}),
      });
    }
  });

  afterAll(() => synthesized?.cleanUp());

  function functionNamed(name: string): TemplateResource {
    return resourceWithIdPrefix(
      synthesized.template,
      'AWS::Lambda::Function',
      `Functions${name}`,
    );
  }

  function invoke<T>(name: string, event: unknown): BundleResult<T> {
    const bundle = join(
      assetDirectory(synthesized, functionNamed(name)),
      'index.js',
    );
    return invokeBundle<T>(
      bundle,
      layerModules,
      environments.get(name) ?? {},
      event,
    );
  }

  it('score, route, read and recycle a lead', async () => {
    const ingested = invoke<HttpResult>(
      'Ingest',
      eventV2({
        path: '/v1/batch',
        headers: {
          authorization: basicAuth(WRITE_KEY),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ batch: qualifyingBatch(LEAD_ID) }),
      }),
    );
    expect(ingested.result.statusCode).toBe(200);
    expect(JSON.parse(ingested.result.body).leads[0]).toMatchObject({
      leadId: LEAD_ID,
      status: 'mql',
    });
    // The bundle logs the request, but never the lead's email.
    expect(ingested.logs).toContain('"level":"INFO"');
    expect(ingested.logs).not.toContain(LEAD_ID);

    const { Messages = [] } = await routing.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: routing.queueUrls[SALES_TARGET.id],
        WaitTimeSeconds: 2,
      }),
    );
    expect(Messages).toHaveLength(1);
    const routed = JSON.parse(Messages[0]?.Body ?? '{}');
    expect(routed['detail-type']).toBe('Lead Qualified');
    expect(routed.detail.leadId).toBe(LEAD_ID);

    const read = invoke<HttpResult>(
      'Leads',
      routeEvent('GET /leads/{leadId}', {
        pathParameters: { leadId: LEAD_ID },
      }),
    );
    expect(read.result.statusCode).toBe(200);
    expect(JSON.parse(read.result.body).status).toBe('mql');

    const recycled = invoke<HttpResult>(
      'Recycle',
      routeEvent('POST /leads/{leadId}/recycle', {
        pathParameters: { leadId: LEAD_ID },
        body: { reason: 'no budget this year' },
      }),
    );
    expect(recycled.result.statusCode).toBe(200);
    expect(JSON.parse(recycled.result.body).status).toBe('recycled');

    const swept = invoke<{ read: number; failed: number }>('Sweep', {});
    expect(swept.result.failed).toBe(0);
    expect(swept.result.read).toBeGreaterThanOrEqual(0);
  });

  it('reject a wrong write key with 401', () => {
    const rejected = invoke<HttpResult>(
      'Ingest',
      eventV2({
        path: '/v1/batch',
        headers: { authorization: basicAuth('not-the-key') },
        body: JSON.stringify({ batch: qualifyingBatch('someone') }),
      }),
    );

    expect(rejected.result.statusCode).toBe(401);
  });

  it.runIf(process.env.MQL_LAMBDA_NODE)(
    'run on the Node major version of the Lambda runtime',
    () => {
      const runtime = String(functionNamed('Leads').Properties.Runtime);
      const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
      const { nodeVersion } = invoke<HttpResult>(
        'Leads',
        routeEvent('GET /leads/{leadId}', {
          pathParameters: { leadId: 'nobody' },
        }),
      );

      expect(major).toBeDefined();
      expect(nodeVersion.startsWith(`v${major}.`)).toBe(true);
    },
  );
});

/**
 * Returns the function's environment variables from the template: each
 * literal value as the stack sets it. Values that name other resources
 * (a `Ref` or `Fn::GetAtt`) are left out for the caller to give.
 */
function stackEnvironment(fn: TemplateResource): Record<string, string> {
  const environment = fn.Properties.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment?.Variables ?? {})) {
    if (typeof value === 'string') variables[name] = value;
  }
  return variables;
}
