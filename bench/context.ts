import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort } from '../local/ports.js';
import { createLeadTable } from '../local/provision.js';
import {
  LOCAL_AWS,
  type LocalService,
  startDynamoDbLocal,
  startMoto,
} from '../local/services.js';

/**
 * Context every suite receives: local services started on first use and
 * shared by the suites of one run, and a way to create a fresh table.
 */
export interface BenchContext {
  /** Starts DynamoDB Local on first use; later calls reuse it. */
  dynamoDb(): Promise<{ endpoint: string; client: DynamoDBClient }>;
  /** Starts moto's server on first use; later calls reuse it. */
  moto(): Promise<{ endpoint: string }>;
  /** Creates a fresh lead table on DynamoDB Local and returns its name. */
  createTable(prefix: string): Promise<string>;
  /** Prints one progress line on stderr. */
  progress(message: string): void;
}

/** One measured figure, with its baseline when the suite has one. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The figure this one is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  /** Target as text, for example "≥ 0.6 × baseline". */
  target?: string;
  /** Whether the target is met; absent when there is no target. */
  met?: boolean;
}

/** Result of one suite: its figures and notes for BENCHMARKS.md. */
export interface SuiteReport {
  title: string;
  figures: Figure[];
  /** Markdown paragraphs printed under the table: method, causes. */
  notes?: string[];
}

/** The module shape of bench/suites/<name>.ts. */
export interface BenchSuite {
  description: string;
  run(context: BenchContext): Promise<SuiteReport>;
}

/** Creates the context of one run and the function that stops it. */
export function createBenchContext(): {
  context: BenchContext;
  stop(): Promise<void>;
} {
  const services: LocalService[] = [];
  let dynamo: Promise<{ endpoint: string; client: DynamoDBClient }> | null =
    null;
  let moto: Promise<{ endpoint: string }> | null = null;
  let tables = 0;

  const context: BenchContext = {
    dynamoDb() {
      dynamo ??= (async () => {
        const service = await startDynamoDbLocal({ port: await freePort() });
        services.push(service);
        const client = new DynamoDBClient({
          ...LOCAL_AWS,
          endpoint: service.endpoint,
        });
        return { endpoint: service.endpoint, client };
      })();
      return dynamo;
    },
    moto() {
      moto ??= (async () => {
        const service = await startMoto({ port: await freePort() });
        services.push(service);
        return { endpoint: service.endpoint };
      })();
      return moto;
    },
    async createTable(prefix) {
      const { endpoint } = await context.dynamoDb();
      tables += 1;
      const name = `${prefix}-${process.pid}-${tables}`;
      await createLeadTable(endpoint, name);
      return name;
    },
    progress(message) {
      process.stderr.write(`${message}\n`);
    },
  };

  return {
    context,
    async stop() {
      await Promise.all(services.map((service) => service.stop()));
    },
  };
}
