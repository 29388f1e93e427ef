/*
 * `npm run demo`: a scripted demonstration against the sample app, on 3 local redis-server
 * nodes. Concurrent payments of one order (one goes through, the others get 423 Locked with
 * Retry-After), the fencing token growing, lockMiddleware in front of an Express route, and a
 * node killed mid-run (locks keep working with 2 of 3), and the lock metrics at GET /metrics
 * (OpenTelemetry, Prometheus format). Prints a summary; exits 0 only if every step behaved as
 * shown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lockNodes, type LockNodes } from './local-nodes.js';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

const failures: string[] = [];
const check = (ok: boolean, line: string) => {
  console.log(`  ${ok ? '✓' : '✗'} ${line}`);
  if (!ok) failures.push(line);
};
const count = (answers: Answer[], status: number) =>
  answers.filter((answer) => answer.status === status).length;

/** Starts the sample app on a free port and resolves to its base URL. */
function startApp(nodes: LockNodes): Promise<{ app: ChildProcess; base: string }> {
  const app = spawn(process.execPath, [new URL('../src/main.js', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, REDLOCK_NODES: nodes.urls.join(','), PORT: '0', METRICS: 'prometheus' },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    app.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ app, base: match[1] });
    });
    app.once('exit', (code) => reject(new Error(`the sample app exited (${code}):\n${output}`)));
  });
}

async function main(): Promise<void> {
  const nodes = await lockNodes();
  const { app, base } = await startApp(nodes);
  const call = async (method: string, path: string, body?: object): Promise<Answer> => {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const pay = () => call('POST', '/orders/42/pay', { amountCents: 250 });
  let paid = 0;

  try {
    console.log(
      `\nnestjs-redlock demo: the sample app at ${base}, on ${nodes.urls.length} Redis nodes\n`,
    );

    console.log('1. Five concurrent payments of order 42');
    const burst = await Promise.all(Array.from({ length: 5 }, pay));
    const locked = burst.filter((answer) => answer.status === 423);
    paid += count(burst, 201);
    check(count(burst, 201) === 1, `${count(burst, 201)} went through (201 Created)`);
    check(
      locked.length === 4 && locked.every((answer) => Number(answer.retryAfter) >= 1),
      `${locked.length} got 423 Locked, with Retry-After: ${locked[0]?.retryAfter ?? '-'} s`,
    );

    console.log('\n2. The fencing token grows with every payment');
    const tokens: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await pay();
      if (answer.status === 201) paid++;
      tokens.push(BigInt(String(answer.body.lastToken)));
    }
    check(
      tokens.every((token, i) => i === 0 || token > tokens[i - 1]),
      `tokens ${tokens.join(' < ')}: the store refuses any write that carries an older one`,
    );

    console.log('\n3. lockMiddleware in front of an Express route');
    const rebuilds = await Promise.all([
      call('POST', '/reports/2026-11-23/rebuild'),
      call('POST', '/reports/2026-11-23/rebuild'),
    ]);
    check(
      count(rebuilds, 201) === 1 && count(rebuilds, 423) === 1,
      `two concurrent rebuilds of one day's report: ${rebuilds.map((r) => r.status).join(' and ')}`,
    );

    console.log('\n4. One of the three nodes is killed (SIGKILL) mid-run');
    if (nodes.cluster) {
      await nodes.cluster.servers[2].kill();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const health = await call('GET', '/health');
      const info = (health.body.info as { redlock?: { up: number; quorum: number } }).redlock;
      check(
        health.status === 200 && info?.up === 2,
        `/health: ${health.status}, ${info?.up} of 3 nodes up, a quorum of ${info?.quorum} is reachable`,
      );
      const after: Answer[] = [];
      for (let i = 0; i < 3; i++) after.push(await pay());
      paid += count(after, 201);
      const afterTokens = after.map((answer) => BigInt(String(answer.body.lastToken)));
      check(
        count(after, 201) === 3 && afterTokens[0] > tokens[tokens.length - 1],
        `3 more payments went through on 2 nodes, tokens ${afterTokens.join(' < ')}`,
      );
    } else {
      console.log('  (skipped: REDLOCK_NODES names nodes this demo did not start)');
    }

    console.log('\n5. The order, as stored');
    const order = await call('GET', '/orders/42');
    check(
      order.body.payments === paid && order.body.paidCents === paid * 250,
      `${String(order.body.payments)} payments, ${String(order.body.paidCents)} cents: none lost, none twice`,
    );

    console.log('\n6. The lock metrics, as Prometheus scrapes them (curl localhost:3000/metrics)');
    const scraped = await (await fetch(`${base}/metrics`)).text();
    const lines = scraped
      .split('\n')
      .filter((line) => /^redlock_lock_(acquisitions|lost)|^redlock_nodes/.test(line));
    for (const line of lines) console.log(`    ${line}`);
    const counted = (outcome: string) =>
      lines
        .filter(
          (line) =>
            line.startsWith('redlock_lock_acquisitions') &&
            line.includes(`redlock_outcome="${outcome}"`),
        )
        .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    check(
      counted('acquired') >= paid && counted('locked') >= locked.length,
      `acquisitions counted by outcome: ${counted('acquired')} acquired, ${counted('locked')} locked`,
    );
    check(
      /^redlock_lock_wait_duration\S*_bucket\{/m.test(scraped) &&
        /^redlock_lock_hold_duration\S*_count\{/m.test(scraped),
      'wait and hold time histograms are exported (redlock_lock_wait_duration, redlock_lock_hold_duration)',
    );
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) =>
      app.exitCode !== null ? resolve(null) : app.once('exit', resolve),
    );
    await nodes.stop();
  }

  console.log(
    failures.length === 0
      ? '\nEvery step behaved as described.'
      : `\n${failures.length} step(s) did not behave as described.`,
  );
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
