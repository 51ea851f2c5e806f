/** A method call held at a gate until `release` is called. */
export interface HeldCall {
  /** Resolves once the held call has reached the gate. */
  reached: Promise<void>;
  release: () => void;
}

type AsyncMethod = (...args: never[]) => Promise<unknown>;

/**
 * Replaces `target[method]` until its next call whose arguments
 * `matches` accepts, and makes that call wait. With `when: 'before'` the call
 * waits before it runs; with `when: 'after'` it runs and its result
 * waits. Other calls, and every call after the held one, run unchanged.
 */
export function holdNextCall<
  Target extends Record<Method, AsyncMethod>,
  Method extends keyof Target,
>(
  target: Target,
  method: Method,
  options: {
    when: 'before' | 'after';
    matches?: (...args: Parameters<Target[Method]>) => boolean;
  },
): HeldCall {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let markReached = () => {};
  const reached = new Promise<void>((resolve) => {
    markReached = resolve;
  });
  const original = target[method].bind(target) as Target[Method];
  const held = async (...args: Parameters<Target[Method]>) => {
    if (options.matches !== undefined && !options.matches(...args)) {
      return original(...args);
    }
    target[method] = original;
    if (options.when === 'before') {
      markReached();
      await gate;
      return original(...args);
    }
    const result = await original(...args);
    markReached();
    await gate;
    return result;
  };
  target[method] = held as Target[Method];
  return { reached, release };
}
