process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import type { TestProject } from 'vitest/node';
import { freePort } from '../../local/ports.js';
import {
  type LocalService,
  startDynamoDbLocal,
  startMoto,
  startServices,
} from '../../local/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
    motoEndpoint: string;
  }
}

/**
 * Starts one DynamoDB Local and one moto server for the whole run. Tests
 * isolate themselves by creating uniquely named tables, buses and queues.
 */
export default async function setup(project: TestProject) {
  // startServices stops the one that started when the other fails, so a
  // failed setup leaves no service behind to keep vitest from exiting.
  const services = await startServices([
    {
      name: 'DynamoDB Local',
      start: async () => startDynamoDbLocal({ port: await freePort() }),
    },
    {
      name: 'moto_server',
      start: async () => startMoto({ port: await freePort() }),
    },
  ]);
  const [dynamo, moto] = services as [LocalService, LocalService];
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await Promise.all(services.map((service) => service.stop()));
  };
}
