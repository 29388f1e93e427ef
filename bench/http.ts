import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import type { Measurement } from './scenarios.js';

/** One HTTP load: what autocannon measured, and how many answers were 423. */
export interface HttpMeasurement extends Measurement {
  /** Share of answers that were 423 Locked. */
  lockedShare: number;
}

/** The three loads, all against the same app: bare, locked per order, one hot order. */
const LOADS = [
  { library: 'no lock', path: (n: number) => `/plain/${n}` },
  { library: 'LockInterceptor, a key per request', path: (n: number) => `/locked/${n}` },
  { library: 'LockInterceptor, one hot key (mostly 423)', path: () => '/locked/42' },
] as const;

/**
 * Starts bench/http-app.js on `urls` and drives each load with autocannon (`connections`
 * concurrent connections for `durationS` seconds): requests per second, latency p50/p99, and
 * the share of 423 answers.
 */
export async function httpScenarios(
  urls: string[],
  durationS: number,
  connections = 32,
): Promise<HttpMeasurement[]> {
  const app = spawn(process.execPath, [new URL('./http-app.js', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REDLOCK_NODES: urls.join(',') },
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      app.stdout!.on('data', (chunk: Buffer) => {
        const match = /listening on (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      app.once('exit', (code) => reject(new Error(`the bench app exited (${code})`)));
    });
    const results: HttpMeasurement[] = [];
    for (const load of LOADS) {
      let counter = 0;
      const run = (seconds: number) =>
        autocannon({
          url: `http://127.0.0.1:${port}`,
          connections,
          duration: seconds,
          requests: [
            {
              method: 'GET',
              setupRequest: (request) => ({ ...request, path: load.path(counter++) }),
            },
          ],
        });
      await run(1); // warm-up
      const result = await run(durationS);
      const locked = result.statusCodeStats?.['423']?.count ?? 0;
      results.push({
        scenario: 'http',
        library: load.library,
        ops: result.requests.total,
        opsPerSec: result.requests.average,
        latencyMs: {
          count: result.requests.total,
          p50: result.latency.p50,
          p99: result.latency.p99,
          max: result.latency.max,
        },
        errors: result.errors + result.timeouts + result.non2xx - locked,
        lockedShare: result.requests.total ? locked / result.requests.total : 0,
      });
    }
    return results;
  } finally {
    app.kill('SIGTERM');
  }
}
