import {
  CreateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';
import { hashWriteKey } from '../../functions/adapters/write-keys.js';
import { LOCAL_AWS } from '../../local/services.js';
import { uniqueName } from './aws.js';

/** A write key and the source it belongs to. */
export interface TestWriteKey {
  sourceId: string;
  key: string;
}

/** Returns the secret's JSON for write keys, as operators store it. */
export function writeKeySecretValue(keys: readonly TestWriteKey[]): string {
  return JSON.stringify({
    writeKeys: keys.map(({ sourceId, key }) => ({
      sourceId,
      sha256: hashWriteKey(key),
    })),
  });
}

/** Returns a Secrets Manager client of the shared moto server. */
export function secretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({
    ...LOCAL_AWS,
    endpoint: inject('motoEndpoint'),
  });
}

/** Creates a uniquely named write key secret on the shared moto server. */
export async function createWriteKeySecret(
  client: SecretsManagerClient,
  value: string,
): Promise<string> {
  const name = uniqueName('mql-engine/test/write-keys');
  await client.send(
    new CreateSecretCommand({ Name: name, SecretString: value }),
  );
  return name;
}
