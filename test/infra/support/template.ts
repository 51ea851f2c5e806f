import type { Template } from 'aws-cdk-lib/assertions';

/** A resource of a synthesized template, as plain JSON. */
export interface TemplateResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: template JSON is untyped, and tests read deep paths.
  Properties: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** An IAM policy statement of a synthesized template. */
export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Returns every resource of a type. */
export function resourcesOfType(
  template: Template,
  type: string,
): TemplateResource[] {
  return Object.values(template.findResources(type)) as TemplateResource[];
}

/** Returns the only resource of a type. Raises if there is not exactly one. */
export function resourceOfType(
  template: Template,
  type: string,
): TemplateResource {
  const resources = resourcesOfType(template, type);
  if (resources.length !== 1) {
    throw new Error(`Expected one ${type}, found ${resources.length}.`);
  }
  return resources[0] as TemplateResource;
}

/**
 * Returns the statements of every IAM policy, or only of the policies
 * attached to roles whose logical id matches `rolePattern`.
 */
export function statementsOf(
  template: Template,
  rolePattern?: string,
): PolicyStatement[] {
  const pattern =
    rolePattern === undefined ? undefined : new RegExp(rolePattern);
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter((policy) => {
      const roles: Array<{ Ref: string }> = policy.Properties.Roles ?? [];
      return (
        pattern === undefined || roles.some((role) => pattern.test(role.Ref))
      );
    })
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Returns the resource of a type whose logical id starts with `prefix`. */
export function resourceWithIdPrefix(
  template: Template,
  type: string,
  prefix: string,
): TemplateResource {
  const resources = template.findResources(type);
  const id = Object.keys(resources).find((key) => key.startsWith(prefix));
  if (id === undefined) {
    throw new Error(`No ${type} has a logical id starting with ${prefix}.`);
  }
  return resources[id] as TemplateResource;
}
