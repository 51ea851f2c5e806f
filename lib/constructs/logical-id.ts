import { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Returns the logical id of a construct's CloudFormation resource, as
 * cdk-nag prints it in finding ids such as `<LeadsTable11ECD07C.Arn>`.
 */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!(resource instanceof CfnElement)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource.`);
  }
  return Stack.of(construct).resolve(resource.logicalId);
}
