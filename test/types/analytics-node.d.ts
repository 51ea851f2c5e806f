/**
 * Types of the parts of the legacy `analytics-node` package (6.x, plain
 * JavaScript without declarations) that the client tests use.
 */
declare module 'analytics-node' {
  type Callback = (error?: Error) => void;

  interface Options {
    host?: string;
    path?: string;
    flushAt?: number;
    flushInterval?: number;
    retryCount?: number;
    timeout?: number | string;
    errorHandler?: (error: Error) => void;
  }

  class Analytics {
    constructor(writeKey: string, options?: Options);
    identify(message: Record<string, unknown>, callback?: Callback): this;
    track(message: Record<string, unknown>, callback?: Callback): this;
    page(message: Record<string, unknown>, callback?: Callback): this;
    screen(message: Record<string, unknown>, callback?: Callback): this;
    group(message: Record<string, unknown>, callback?: Callback): this;
    alias(message: Record<string, unknown>, callback?: Callback): this;
    flush(callback?: Callback): Promise<unknown>;
  }

  export = Analytics;
}
