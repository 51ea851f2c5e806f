import { isLoopbackEndpoint } from '../local/loopback.js';
import { LOCAL_AWS } from '../local/services.js';

/** AWS SDK client settings that `clientConfig` fills in. */
export interface EndpointConfig {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Returns the AWS SDK client settings for `endpoint`. DynamoDB Local and
 * moto on a loopback address take any credentials in any region, so a
 * command aimed at the local stack needs no AWS configuration.
 */
export function clientConfig(endpoint: string | undefined): EndpointConfig {
  if (endpoint === undefined) return {};
  return isLoopbackEndpoint(endpoint)
    ? { ...LOCAL_AWS, endpoint }
    : { endpoint };
}
