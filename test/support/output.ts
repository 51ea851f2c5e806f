/** Text written to stdout and stderr while a capture is active. */
export interface CapturedOutput {
  stdout: string[];
  stderr: string[];
  /** Everything written to both streams, in order of writing. */
  all(): string;
  /** Puts the original write functions back. */
  restore(): void;
}

/**
 * Captures writes to process.stdout and process.stderr instead of
 * printing them. The Powertools Logger and Metrics write through these
 * streams when they run outside Lambda.
 */
export function captureOutput(): CapturedOutput {
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  const ordered: string[] = [];
  const captured: CapturedOutput = {
    stdout: [],
    stderr: [],
    all: () => ordered.join(''),
    restore: () => {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
    },
  };
  const recorder = (target: string[]) =>
    ((chunk: string | Uint8Array) => {
      const text =
        typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      target.push(text);
      ordered.push(text);
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = recorder(captured.stdout);
  process.stderr.write = recorder(captured.stderr);
  return captured;
}
