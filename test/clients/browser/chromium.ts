import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Flags for Debian's Chromium in tests. Without the background-networking
 * ones, Chromium tries to reach Google hosts at start-up.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Returns the path of the system Chromium, or raises how to install it. */
export function chromiumPath(): string {
  if (existsSync('/usr/bin/chromium')) {
    return '/usr/bin/chromium';
  }
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium was not found at /usr/bin/chromium or on the PATH. Install it with: apt-get install chromium',
    );
  }
}

/** Launches headless Chromium with a fresh profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
}
