/**
 * `npm run bench`: nestjs-redlock side by side with its peers and a raw ioredis floor, in one
 * run, on local redis-server nodes it starts itself. Prints a table, checks the targets, and
 * writes bench/results/latest.json. Exits 1 if a target is missed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { RedisCluster } from '../test/support/redis-nodes.js';
import {
  nodeRedlock,
  ours,
  oursFenced,
  oursRead,
  oursSemaphore,
  semaphorePeer,
  SEMAPHORE_LIMIT,
  rawFloor,
  semaphoreMutex,
  sesame,
  universal,
  type Contender,
} from './contenders.js';
import { barChart, CHARTS, memoryChart } from './charts.js';
import { httpScenarios, type HttpMeasurement } from './http.js';
import { memoryRunInChild, type MemoryReport } from './memory.js';
import { contention, loops, withNodeDown, type Measurement } from './scenarios.js';
import { describeCommands } from './node-cost.js';
import { processes } from './processes.js';
import { readWriteContention } from './read-write.js';
import { semaphoreContention } from './semaphore.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEMORY_CYCLES = Number(process.env.BENCH_MEMORY_CYCLES ?? 1_000_000);
const peers = [nodeRedlock, sesame, universal, semaphoreMutex];
const all = [ours, ...peers, rawFloor];

/** Every round of every side-by-side scenario, by scenario name. */
const roundsByScenario = new Map<string, Measurement[][]>();

function median<T>(items: T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Runs `measure` for each contender, `ROUNDS` times in alternating order, and answers each
 * contender's median round. Ratios are taken within a round (the contenders ran back to back
 * there), then their median over the rounds: a noisy moment moves one round, not the verdict.
 */
async function sideBySide(
  contenders: Contender[],
  measure: (contender: Contender) => Promise<Measurement>,
): Promise<Measurement[]> {
  const rounds: Measurement[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    const measured: Measurement[] = [];
    for (const contender of order) {
      const measurement = await measure(contender);
      process.stderr.write(
        `    round ${round + 1} ${contender.name}: ${Math.round(measurement.opsPerSec)} ops/s\n`,
      );
      measured.push(measurement);
    }
    rounds.push(measured);
  }
  roundsByScenario.set(rounds[0][0].scenario, rounds);
  return contenders.map((contender) =>
    median(
      rounds.map((round) => round.find((m) => m.library === contender.name)!),
      (m) => m.opsPerSec,
    ),
  );
}

/** Ours / `against(round, rounds)` in each round of `scenario` (empty if it was not run). */
function ratiosOf(scenario: string, against: Against): number[] {
  const rounds = roundsByScenario.get(scenario) ?? [];
  return rounds.map(
    (round) => round.find((m) => m.library === ours.name)!.opsPerSec / against(round, rounds),
  );
}

/** `library` / `other` ops/s in each round of `scenario`: median and range (NaN if not run). */
function ratioBetween(
  scenario: string,
  library: string,
  other: string,
): { value: number; range: [number, number] | undefined } {
  const ratios = (roundsByScenario.get(scenario) ?? []).map(
    (round) =>
      round.find((m) => m.library === library)!.opsPerSec /
      round.find((m) => m.library === other)!.opsPerSec,
  );
  if (ratios.length === 0) return { value: NaN, range: undefined };
  return {
    value: median(ratios, (value) => value),
    range: [Math.min(...ratios), Math.max(...ratios)],
  };
}

/** What a scenario's ops/s are compared with, round by round. */
type Against = (round: Measurement[], rounds: Measurement[][]) => number;

/** The median over the rounds of `scenario` of ours / `against`; NaN if not run. */
function ratio(scenario: string, against: Against): number {
  const ratios = ratiosOf(scenario, against);
  return ratios.length === 0 ? NaN : median(ratios, (value) => value);
}

/** The lowest and highest of those ratios, for the report: the spread over the rounds. */
function ratioRange(scenario: string, against: Against): [number, number] | undefined {
  const ratios = ratiosOf(scenario, against);
  return ratios.length === 0 ? undefined : [Math.min(...ratios), Math.max(...ratios)];
}

function describeRange(range: [number, number] | undefined): string {
  return range ? `${range[0].toFixed(2)}–${range[1].toFixed(2)}` : '';
}

/**
 * The fastest peer: the one with the highest median ops/s over the scenario's rounds, taken
 * in each round. (The fastest peer of each round would be the largest of four noisy numbers,
 * biased upward: four equally fast libraries would each lose to it in most rounds.)
 */
const bestPeer: Against = (round, rounds) => {
  const medianOf = (name: string) =>
    median(
      rounds.map((r) => r.find((m) => m.library === name)?.opsPerSec ?? 0),
      (value) => value,
    );
  const present = peers.filter((peer) => round.some((m) => m.library === peer.name));
  const fastest = present.sort((a, b) => medianOf(b.name) - medianOf(a.name))[0];
  return round.find((m) => m.library === fastest.name)!.opsPerSec;
};
const floor = (round: Measurement[]) => round.find((m) => m.library === rawFloor.name)!.opsPerSec;

function printTable(results: Measurement[]): void {
  const rows = results.map((m) => ({
    scenario: m.scenario,
    library: m.library,
    'ops/s': Math.round(m.opsPerSec),
    'p50 ms': m.latencyMs.p50.toFixed(2),
    'p99 ms': m.latencyMs.p99.toFixed(2),
    errors: m.errors,
    lost: m.lostUpdates ?? '',
    'attempts/grant': m.attemptsPerGrant?.toFixed(2) ?? '',
    stalled: m.stalledAfterMs === undefined ? '' : `after ${Math.round(m.stalledAfterMs)} ms`,
    'node CPU µs/op': m.nodeCost?.cpuUsecPerOp.toFixed(1) ?? '',
    'client CPU µs/op': m.clientCpuUsecPerOp?.toFixed(1) ?? '',
    'node script µs/op': m.nodeCost?.scriptUsecPerOp.toFixed(1) ?? '',
  }));
  console.table(rows);
  for (const m of results.filter((m) => m.nodeCost)) {
    console.log(
      `${m.scenario} / ${m.library}: node commands per op: ${describeCommands(m.nodeCost!.commandsPerOp)}`,
    );
  }
  for (const m of results.filter((m) => m.firstError)) {
    console.log(`${m.scenario} / ${m.library}: first error: ${m.firstError}`);
  }
}

/** A target's bound as the report shows it, to 3 significant digits (1 / 1.2 is `≥ 0.833`). */
function describeWanted(t: { atLeast?: number; atMost?: number }): string {
  return t.atLeast !== undefined
    ? `≥ ${Number(t.atLeast.toPrecision(3))}`
    : `≤ ${Number(t.atMost!.toPrecision(3))}`;
}

function markdownReport(
  date: string,
  results: Measurement[],
  targets: {
    name: string;
    value: number;
    range?: [number, number];
    pass: boolean;
    atLeast?: number;
    atMost?: number;
  }[],
  memory?: MemoryReport,
): string {
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${date} (Node ${process.version}, ${cpus().length} cores, ` +
      `${DURATION_MS} ms per run, median of ${ROUNDS} rounds in alternating order; ratios are the median of per-round ratios). Every library ` +
      'runs against the same local redis-server nodes in the same run. Latency is one ' +
      'acquire+release, except under contention, where it is the wait for the lock.',
    '',
    '| scenario | library | ops/s | p50 ms | p99 ms | errors | lost updates | attempts/grant | stalled | node CPU µs/op | node commands/op | client CPU µs/op |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |',
    ...results.map(
      (m) =>
        `| ${m.scenario} | ${m.library} | ${Math.round(m.opsPerSec)} | ${m.latencyMs.p50.toFixed(2)} | ` +
        `${m.latencyMs.p99.toFixed(2)} | ${m.errors} | ${m.lostUpdates ?? ''} | ` +
        `${m.attemptsPerGrant?.toFixed(2) ?? ''} | ` +
        `${m.stalledAfterMs === undefined ? '' : `after ${Math.round(m.stalledAfterMs)} ms`} | ` +
        `${m.nodeCost?.cpuUsecPerOp.toFixed(1) ?? ''} | ${m.nodeCost ? describeCommands(m.nodeCost.commandsPerOp) : ''} | ` +
        `${m.clientCpuUsecPerOp?.toFixed(1) ?? ''} |`,
    ),
    '',
    '| target | median | range over the rounds | wanted | result |',
    '| --- | ---: | ---: | --- | --- |',
    ...targets.map(
      (t) =>
        `| ${t.name} | ${t.value.toFixed(2)} | ${describeRange(t.range)} | ` +
        `${describeWanted(t)} | ${t.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    'Scenarios: `sequential-N`, one loop acquiring and releasing on N nodes; `fencing-3`, the ' +
      'same on 3 nodes with and without fencing tokens (ours only: the peers have none); `read-3`, the same with read ' +
      'locks and with the mutex (ours only); `semaphore-3`, the same with permits of a semaphore of 4 and with the ' +
      'mutex (ours only); `semaphore16x4-3`, 16 clients taking permits of one semaphore of 4, each holding one for ' +
      "1 ms, against redis-semaphore's RedlockSemaphore, with the contention scenarios' retry settings, where `lost` " +
      'counts moments more than 4 held at once and latency is the wait for a permit; `rw16+2-3`, 16 clients taking read locks and 2 taking write locks on ' +
      'one key, each holding it for 1 ms, with the same retry settings as the contention scenarios (ours only: ' +
      'no peer has a read-write lock), where `lost` counts a writer seen beside anyone; `concurrent64-3`, 64 ' +
      'loops on distinct keys; `contention8-3` and `contention32-3`, 8 or 32 clients on one key, each holding it for a ' +
      'read-sleep(1 ms)-write of a shared counter (retry delay 10 ms + up to 10 ms jitter for ' +
      'all), measured after 300 ms of the same contention, untimed; `node-down-3`, one of 3 nodes SIGKILLed under a running client; ' +
      '`node-down-at-start-3`, the same node down before the client starts; `node-paused-3`, one ' +
      'of 3 nodes SIGSTOPped under a running client (its connection stays open and nothing ' +
      'answers, as in a network partition). An operation slower than 5 s ends a run as stalled. ' +
      '`http`: a Nest app in a child process, driven by autocannon with 32 connections: the ' +
      'same route bare, behind `LockInterceptor` with a key per request, and with every request ' +
      'on one key (`waitMs: 0`, so most answer 423); latency is per request.',
    '',
  ];
  if (memory) {
    lines.push(
      `Memory: ${memory.cycles} acquire/release cycles by 64 concurrent loops on one Redlock, ` +
        `heap and RSS sampled ${memory.collected ? 'after a full GC ' : ''}every ` +
        `${memory.cycles / 10} cycles: heap ${memory.heapGrowthMb.toFixed(1)} MB and RSS ` +
        `${memory.rssGrowthMb.toFixed(1)} MB more at the end than at the start.`,
      '',
      '| cycles | heap MB | RSS MB |',
      '| ---: | ---: | ---: |',
      ...memory.samples.map(
        (s) => `| ${s.cycles} | ${s.heapMb.toFixed(1)} | ${s.rssMb.toFixed(1)} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const three = await RedisCluster.start(3);
  const five = await RedisCluster.start(5);
  const results: Measurement[] = [];
  const httpResults: HttpMeasurement[] = [];
  let memory: MemoryReport | undefined;
  try {
    // Warm the JIT (ours, the peers' and ioredis's shared code) before anything is measured,
    // so that whoever runs first does not pay for it.
    process.stderr.write('… warming up\n');
    for (const contender of all) {
      await loops(contender, three.urls, 'warm-up', 8, 500);
      await loops(contender, three.urls, 'warm-up', 1, 300);
    }
    const only = process.env.BENCH_ONLY;
    const run = async (
      label: string,
      contenders: Contender[],
      measure: (c: Contender) => Promise<Measurement>,
    ) => {
      if (only && !label.includes(only)) return;
      process.stderr.write(`… ${label}\n`);
      results.push(...(await sideBySide(contenders, measure)));
    };
    await run('sequential, 3 nodes', all, (c) =>
      loops(c, three.urls, 'sequential-3', 1, DURATION_MS),
    );
    await run('sequential, 5 nodes', all, (c) =>
      loops(c, five.urls, 'sequential-5', 1, DURATION_MS),
    );
    await run('sequential with fencing, 3 nodes', [ours, oursFenced], (c) =>
      loops(c, three.urls, 'fencing-3', 1, DURATION_MS),
    );
    await run('sequential read locks, 3 nodes', [ours, oursRead], (c) =>
      loops(c, three.urls, 'read-3', 1, DURATION_MS),
    );
    await run('sequential semaphore permits, 3 nodes', [ours, oursSemaphore], (c) =>
      loops(c, three.urls, 'semaphore-3', 1, DURATION_MS),
    );
    await run(
      `16 contending for ${SEMAPHORE_LIMIT} permits, 3 nodes`,
      [oursSemaphore, semaphorePeer],
      (c) =>
        semaphoreContention(c, three.urls, `semaphore16x${SEMAPHORE_LIMIT}-3`, 16, DURATION_MS),
    );
    const readWriteLabel = '16 readers and 2 writers, 3 nodes';
    if (!only || readWriteLabel.includes(only)) {
      process.stderr.write(`… ${readWriteLabel}\n`);
      results.push(...(await readWriteContention(three.urls, 'rw16+2-3', 16, 2, DURATION_MS)));
    }
    await run('4 processes, 3 nodes', all, (c) =>
      processes(c, three.urls, 'processes4-3', 4, DURATION_MS),
    );
    await run('64 concurrent, 3 nodes', all, (c) =>
      loops(c, three.urls, 'concurrent64-3', 64, DURATION_MS),
    );
    await run('8 contending, 3 nodes', [ours, ...peers], (c) =>
      contention(c, three.urls, 'contention8-3', 8, DURATION_MS),
    );
    await run('32 contending, 3 nodes', [ours, ...peers], (c) =>
      contention(c, three.urls, 'contention32-3', 32, DURATION_MS),
    );
    const nodeFaults = [
      { scenario: 'node-down-3', when: 'running', fault: () => three.servers[0].kill() },
      { scenario: 'node-down-at-start-3', when: 'start', fault: () => three.servers[0].kill() },
      // SIGSTOP: the connection stays open and nothing answers, as with a network partition.
      { scenario: 'node-paused-3', when: 'running', fault: async () => three.servers[0].pause() },
    ] as const;
    for (const { scenario, when, fault } of nodeFaults) {
      if (only && !scenario.includes(only)) continue;
      for (const contender of [ours, ...peers]) {
        process.stderr.write(`… ${scenario}: ${contender.name}\n`);
        results.push(
          await withNodeDown(contender, three.urls, scenario, fault, when, DURATION_MS, 5_000),
        );
        await three.heal();
      }
    }
    if (!only || 'http'.includes(only)) {
      process.stderr.write('… HTTP through Nest (autocannon)\n');
      httpResults.push(...(await httpScenarios(three.urls, Math.max(3, DURATION_MS / 200))));
      results.push(...httpResults);
    }
    if (!only || 'memory'.includes(only)) {
      process.stderr.write(`… memory over ${MEMORY_CYCLES} cycles\n`);
      memory = await memoryRunInChild(three.urls, MEMORY_CYCLES);
    }
  } finally {
    await Promise.all([three.stop(), five.stop()]);
  }

  const find = (scenario: string, library: string) =>
    results.find((m) => m.scenario === scenario && m.library === library) ??
    ({ opsPerSec: NaN, latencyMs: { p99: NaN }, lostUpdates: NaN } as Measurement);
  const targets = [
    {
      name: 'sequential-3 vs best peer',
      value: ratio('sequential-3', bestPeer),
      range: ratioRange('sequential-3', bestPeer),
      atLeast: 1.0,
    },
    {
      name: 'sequential-3 vs raw floor',
      value: ratio('sequential-3', floor),
      range: ratioRange('sequential-3', floor),
      atLeast: 0.95,
    },
    {
      name: 'sequential-5 vs best peer',
      value: ratio('sequential-5', bestPeer),
      range: ratioRange('sequential-5', bestPeer),
      atLeast: 1.0,
    },
    {
      name: 'sequential-5 vs raw floor',
      value: ratio('sequential-5', floor),
      range: ratioRange('sequential-5', floor),
      atLeast: 0.95,
    },
    {
      name: 'processes4-3 vs best peer',
      value: ratio('processes4-3', bestPeer),
      range: ratioRange('processes4-3', bestPeer),
      atLeast: 1.0,
    },
    {
      name: 'concurrent64-3 vs best peer',
      value: ratio('concurrent64-3', bestPeer),
      range: ratioRange('concurrent64-3', bestPeer),
      atLeast: 1.5,
    },
    {
      // Informational floor: fencing adds a second round trip, so about half the rate.
      name: 'fencing-3: fenced vs plain',
      value:
        1 /
        ratio('fencing-3', (round) => round.find((m) => m.library === oursFenced.name)!.opsPerSec),
      atLeast: 0.4,
    },
    {
      // Issue 18: an uncontended read lock costs at most 1.2 times the mutex.
      name: 'read-3: read lock vs mutex',
      value:
        1 / ratio('read-3', (round) => round.find((m) => m.library === oursRead.name)!.opsPerSec),
      range: ratioRange(
        'read-3',
        (round) => round.find((m) => m.library === oursRead.name)!.opsPerSec,
      )
        ?.map((r) => 1 / r)
        .reverse() as [number, number] | undefined,
      atLeast: 1 / 1.2,
    },
    {
      // Issue 18: an uncontended permit costs at most 1.2 times the mutex.
      name: 'semaphore-3: permit vs mutex',
      ...ratioBetween('semaphore-3', oursSemaphore.name, ours.name),
      atLeast: 1 / 1.2,
    },
    {
      // Issue 18: against redis-semaphore's RedlockSemaphore, 16 workers, limit 4, 1 ms hold.
      name: `semaphore16x${SEMAPHORE_LIMIT}-3 vs RedlockSemaphore`,
      ...ratioBetween(`semaphore16x${SEMAPHORE_LIMIT}-3`, oursSemaphore.name, semaphorePeer.name),
      atLeast: 1.0,
    },
    {
      name: `semaphore16x${SEMAPHORE_LIMIT}-3 p99 wait vs RedlockSemaphore's`,
      value:
        find(`semaphore16x${SEMAPHORE_LIMIT}-3`, oursSemaphore.name).latencyMs.p99 /
        find(`semaphore16x${SEMAPHORE_LIMIT}-3`, semaphorePeer.name).latencyMs.p99,
      atMost: 0.2,
    },
    {
      name: `semaphore16x${SEMAPHORE_LIMIT}-3 over the limit`,
      value: find(`semaphore16x${SEMAPHORE_LIMIT}-3`, oursSemaphore.name).lostUpdates ?? NaN,
      atMost: 0,
    },
    {
      name: 'rw16+2-3 overlaps (a writer beside anyone)',
      value: find('rw16+2-3', `${ours.name} (writers)`).lostUpdates ?? NaN,
      atMost: 0,
    },
    {
      // A stream of readers must not starve the writers: their worst wait stays short.
      name: "rw16+2-3 writers' worst wait ms",
      value: find('rw16+2-3', `${ours.name} (writers)`).latencyMs.max,
      atMost: 100,
    },
    { name: 'node-down-3 p99 ms', value: find('node-down-3', ours.name).latencyMs.p99, atMost: 5 },
    {
      name: 'node-down-at-start-3 p99 ms',
      value: find('node-down-at-start-3', ours.name).latencyMs.p99,
      atMost: 5,
    },
    {
      name: 'node-paused-3 p99 ms',
      value: find('node-paused-3', ours.name).latencyMs.p99,
      atMost: 5,
    },
    {
      // Issue 6's targets: waiters served in about arrival order, without losing throughput.
      name: 'contention8-3 p99 wait ms',
      value: find('contention8-3', ours.name).latencyMs.p99,
      atMost: 15,
    },
    {
      name: 'contention8-3 vs best peer',
      value: ratio('contention8-3', bestPeer),
      range: ratioRange('contention8-3', bestPeer),
      atLeast: 0.95,
    },
    {
      name: 'contention8-3 attempts per grant',
      value: find('contention8-3', ours.name).attemptsPerGrant ?? NaN,
      atMost: 1.5,
    },
    {
      name: 'http: locked vs no lock, req/s',
      value:
        (httpResults.find((m) => m.library.startsWith('LockInterceptor, a key'))?.opsPerSec ??
          NaN) / (httpResults.find((m) => m.library === 'no lock')?.opsPerSec ?? NaN),
      atLeast: 0.3,
    },
    {
      name: 'http: hot key answered 423, share',
      value: httpResults.find((m) => m.library.includes('hot key'))?.lockedShare ?? NaN,
      atLeast: 0.5,
    },
    {
      name: `memory: heap growth over ${MEMORY_CYCLES} cycles, MB`,
      value: memory?.heapGrowthMb ?? NaN,
      atMost: 5,
    },
    {
      name: `memory: RSS growth over ${MEMORY_CYCLES} cycles, MB`,
      value: memory?.rssGrowthMb ?? NaN,
      atMost: 40,
    },
    {
      name: 'contention8-3 lost updates',
      value: find('contention8-3', ours.name).lostUpdates ?? 0,
      atMost: 0,
    },
  ]
    .filter((target) => typeof target.value === 'number' && !Number.isNaN(target.value))
    .map((target) => ({
      ...target,
      pass: 'atLeast' in target ? target.value >= target.atLeast! : target.value <= target.atMost!,
    }));

  printTable(results);
  console.table(
    targets.map((t) => ({
      target: t.name,
      value: t.value.toFixed(2),
      'range over rounds': describeRange(t.range),
      wanted: describeWanted(t),
      result: t.pass ? 'PASS' : 'FAIL',
    })),
  );
  mkdirSync('bench/results', { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    durationMs: DURATION_MS,
    rounds: ROUNDS,
    results,
    memory,
    targets,
  };
  if (process.env.BENCH_ONLY) {
    // A partial run must not replace the full report.
    writeFileSync('bench/results/partial.json', JSON.stringify(report, null, 2) + '\n');
    console.log('written: bench/results/partial.json (BENCH_ONLY run)');
  } else {
    writeFileSync('bench/results/latest.json', JSON.stringify(report, null, 2) + '\n');
    mkdirSync('docs', { recursive: true });
    writeFileSync('docs/benchmarks.md', markdownReport(report.date, results, targets, memory));
    mkdirSync('docs/charts', { recursive: true });
    for (const chart of CHARTS) {
      if (!results.some((m) => m.scenario === chart.scenario)) continue;
      writeFileSync(
        `docs/charts/${chart.file ?? chart.scenario}.svg`,
        barChart(chart, results, ours.name),
      );
    }
    if (memory) writeFileSync('docs/charts/memory.svg', memoryChart(memory.samples));
    console.log('written: bench/results/latest.json, docs/benchmarks.md');
  }
  process.exitCode = targets.every((t) => t.pass) ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
