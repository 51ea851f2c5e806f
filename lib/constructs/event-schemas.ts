import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { resourceName } from '../definitions/event-routing.js';
import {
  detailJsonSchemas,
  eventEnvelopeSchema,
} from '../definitions/event-schemas.js';

export interface EventSchemasProps {
  /** Stage name, part of the registry name. */
  stageName: string;
}

/**
 * An EventBridge schema registry, `mql-engine-<stage>`, with the JSON
 * Schema (draft 4) of every detail type the engine publishes, wrapped in
 * the event envelope, so consumers can browse the contract and generate
 * code bindings from it.
 */
export class EventSchemas extends Construct {
  readonly registry: CfnRegistry;

  constructor(scope: Construct, id: string, props: EventSchemasProps) {
    super(scope, id);
    this.registry = new CfnRegistry(this, 'Registry', {
      registryName: resourceName(props.stageName),
      description: 'Events that mql-engine publishes to its bus.',
    });
    // registryName refers to the registry's attribute, so CloudFormation
    // creates the registry before its schemas.
    for (const schema of detailJsonSchemas()) {
      new CfnSchema(this, schema.detailType.replaceAll(' ', ''), {
        registryName: this.registry.attrRegistryName,
        schemaName: schema.registryName,
        type: 'JSONSchemaDraft4',
        description: `Events with detail type "${schema.detailType}".`,
        content: JSON.stringify(eventEnvelopeSchema(schema)),
      });
    }
  }
}
