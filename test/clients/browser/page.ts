import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A web page on its own loopback origin that loads analytics.js 2.0
 * (`@segment/analytics-next`) from the installed package, bundled by
 * esbuild, so the browser fetches nothing from any other host.
 */

const ENTRY = `
import { AnalyticsBrowser } from '@segment/analytics-next';
window.AnalyticsBrowser = AnalyticsBrowser;
`;

const PAGE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>Pricing</title></head>
  <body>
    <h1>Pricing</h1>
    <script src="/analytics.js"></script>
  </body>
</html>
`;

export interface TrackingPage {
  /** Origin of the page, such as `http://127.0.0.1:41234`. */
  origin: string;
  stop(): Promise<void>;
}

/** Bundles analytics-next for the browser as one script. */
export async function bundleAnalytics(): Promise<string> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: PROJECT_ROOT, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return result.outputFiles[0]?.text ?? '';
}

/** Serves the page at `/` and the bundle at `/analytics.js`. */
export async function startTrackingPage(script: string): Promise<TrackingPage> {
  const server: Server = createServer((request, response) => {
    const isScript = request.url === '/analytics.js';
    response.writeHead(200, {
      'content-type': isScript ? 'text/javascript' : 'text/html',
    });
    response.end(isScript ? script : PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
