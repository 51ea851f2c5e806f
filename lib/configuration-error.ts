/**
 * A stage configuration or scoring model that cannot be deployed. Raised
 * while the CDK app is built, so `cdk synth` stops before any template is
 * written. The message names the file and the path of every invalid field.
 */
export class ConfigurationError extends Error {
  /** One entry per invalid field, such as `reviewShards: Too small`. */
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = []) {
    const details = issues.length === 0 ? '' : ` ${issues.join('; ')}`;
    super(`${message}${details}`);
    this.name = 'ConfigurationError';
    this.issues = issues;
  }
}
