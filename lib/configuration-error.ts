/**
 * A stage configuration or scoring model that cannot be deployed. Raised
 * while the CDK app is built, so `cdk synth` stops before any template is
 * written. The message names the file and the path of every invalid field.
 */
export class ConfigurationError extends Error {
  /** One entry per invalid field, such as `reviewShards: Too small`. */
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = []) {
    // One issue per line: issues are sentences that end in their own
    // punctuation, and a long list stays readable.
    super([message, ...issues.map((issue) => `  ${issue}`)].join('\n'));
    this.name = 'ConfigurationError';
    this.issues = issues;
  }
}
