import { Logger } from '@aws-lambda-powertools/logger';
import type {
  ConstructorOptions,
  LogAttributes,
} from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

/**
 * Powertools Logger that creates one child per invocation. In Powertools
 * 2.36 each Logger tracks the cold start on its own and reports one on
 * its first addContext call, so a new child would report a cold start
 * for every invocation. A child of this class takes the cold start from
 * its parent instead, which only the first invocation of the process
 * gets.
 */
export class InvocationLogger extends Logger {
  /**
   * Returns a child that adds `keys` to every line, plus the Lambda
   * context fields (`function_request_id`, `cold_start` and others) when
   * a context is given.
   */
  forInvocation(keys: LogAttributes, context?: Context): Logger {
    const child = this.createChild({ persistentKeys: keys });
    if (context !== undefined) {
      child.coldStart = this.getColdStart();
      child.addContext(context);
    }
    return child;
  }

  protected override createLogger(
    options?: ConstructorOptions,
  ): InvocationLogger {
    return new InvocationLogger(options);
  }

  override createChild(options?: ConstructorOptions): InvocationLogger {
    return super.createChild(options) as InvocationLogger;
  }
}
