import type { Measurement } from './scenarios.js';

/** One chart: a scenario, the figure it plots, and which way is better. */
export interface ChartSpec {
  readonly scenario: string;
  /** The file's name without `.svg`, when a scenario has more than one chart; the scenario's otherwise. */
  readonly file?: string;
  readonly title: string;
  /** What a bar measures, with its unit. */
  readonly axis: string;
  readonly value: (m: Measurement) => number;
  readonly higherIsBetter: boolean;
}

/** The charts `npm run bench` writes to `docs/charts/<scenario>.svg`. */
export const CHARTS: readonly ChartSpec[] = [
  {
    scenario: 'sequential-3',
    title: 'One loop, acquire + release, 3 nodes',
    axis: 'operations per second',
    value: (m) => m.opsPerSec,
    higherIsBetter: true,
  },
  {
    scenario: 'concurrent64-3',
    title: '64 concurrent loops on distinct keys, 3 nodes',
    axis: 'operations per second',
    value: (m) => m.opsPerSec,
    higherIsBetter: true,
  },
  {
    scenario: 'contention8-3',
    title: '8 clients contending for one key (1 ms hold), 3 nodes',
    axis: 'p99 wait for the lock, ms',
    value: (m) => m.latencyMs.p99,
    higherIsBetter: false,
  },
  {
    scenario: 'contention32-3',
    title: '32 clients contending for one key (1 ms hold), 3 nodes',
    axis: 'p99 wait for the lock, ms',
    value: (m) => m.latencyMs.p99,
    higherIsBetter: false,
  },
  {
    scenario: 'semaphore16x4-3',
    title: '16 clients on one semaphore of 4 (1 ms hold), 3 nodes',
    axis: 'p99 wait for a permit, ms',
    value: (m) => m.latencyMs.p99,
    higherIsBetter: false,
  },
  {
    scenario: 'semaphore16x4-3',
    file: 'semaphore16x4-3-throughput',
    title: '16 clients on one semaphore of 4 (1 ms hold), 3 nodes',
    axis: 'permits granted per second',
    value: (m) => m.opsPerSec,
    higherIsBetter: true,
  },
  {
    scenario: 'http',
    title: 'HTTP through Nest: the same route bare and behind LockInterceptor (32 connections)',
    axis: 'requests per second',
    value: (m) => m.opsPerSec,
    higherIsBetter: true,
  },
  {
    scenario: 'node-paused-3',
    title: 'One of 3 nodes SIGSTOPped under a running client',
    axis: 'p99 acquire + release, ms',
    value: (m) => m.latencyMs.p99,
    higherIsBetter: false,
  },
];

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const format = (value: number) =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);

/**
 * A horizontal bar chart, one bar per library, ours highlighted, as a self-contained SVG (no
 * script, no external font), so that GitHub renders it inside the README.
 */
export function barChart(spec: ChartSpec, results: readonly Measurement[], ours: string): string {
  const rows = results
    .filter((m) => m.scenario === spec.scenario)
    .map((m) => ({ library: m.library, value: spec.value(m), stalled: m.stalledAfterMs }))
    .filter((row) => Number.isFinite(row.value) || row.stalled !== undefined);
  const width = 720;
  const labelWidth = 210;
  const barArea = width - labelWidth - 90;
  const rowHeight = 30;
  const top = 56;
  const height = top + rows.length * rowHeight + 34;
  const max = Math.max(...rows.map((row) => row.value).filter(Number.isFinite), 1e-9);
  const bars = rows.map((row, index) => {
    const y = top + index * rowHeight;
    if (!Number.isFinite(row.value)) {
      const seconds = Math.round((row.stalled ?? 0) / 1000);
      return (
        `<text x="${labelWidth - 8}" y="${y + 19}" text-anchor="end">${escape(row.library)}</text>` +
        `<text x="${labelWidth}" y="${y + 19}" fill="#c92a2a">stalled: one operation took over ${seconds} s</text>`
      );
    }
    const length = Math.max(1, (row.value / max) * barArea);
    const fill =
      row.library === ours || row.library.startsWith(`${ours} (`) ? '#d6336c' : '#868e96';
    return [
      `<text x="${labelWidth - 8}" y="${y + 19}" text-anchor="end">${escape(row.library)}</text>`,
      `<rect x="${labelWidth}" y="${y + 5}" width="${length.toFixed(1)}" height="20" rx="3" fill="${fill}"/>`,
      `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 19}">${format(row.value)}</text>`,
    ].join('');
  });
  const better = spec.higherIsBetter ? 'longer is better' : 'shorter is better';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="#212529">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${escape(spec.title)}</text>`,
    `<text x="12" y="44" fill="#495057">${escape(spec.axis)} (${better})</text>`,
    ...bars,
    `<text x="12" y="${height - 10}" font-size="11" fill="#868e96">npm run bench, every library in the same run against the same local redis-server nodes</text>`,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Heap and RSS over the memory run, as two lines on one chart (MB against cycles), so that
 * growth or its absence can be seen at a glance.
 */
export function memoryChart(
  samples: readonly { cycles: number; heapMb: number; rssMb: number }[],
): string {
  const width = 720;
  const height = 260;
  const left = 60;
  const right = 20;
  const top = 50;
  const bottom = 40;
  const maxCycles = Math.max(...samples.map((s) => s.cycles), 1);
  const maxMb = Math.max(...samples.map((s) => s.rssMb), 1) * 1.1;
  const x = (cycles: number) => left + (cycles / maxCycles) * (width - left - right);
  const y = (mb: number) => height - bottom - (mb / maxMb) * (height - top - bottom);
  const line = (pick: (s: (typeof samples)[number]) => number, colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${samples
      .map((s) => `${x(s.cycles).toFixed(1)},${y(pick(s)).toFixed(1)}`)
      .join(' ')}"/>`;
  const last = samples[samples.length - 1];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="#212529">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">Memory over ${maxCycles.toLocaleString('en-US')} acquire/release cycles (64 concurrent loops)</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#adb5bd"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#adb5bd"/>`,
    `<text x="${left - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${y(maxMb / 1.1) + 4}" text-anchor="end">${Math.round(maxMb / 1.1)} MB</text>`,
    `<text x="${width - right}" y="${height - bottom + 18}" text-anchor="end">${maxCycles.toLocaleString('en-US')} cycles</text>`,
    line((s) => s.rssMb, '#868e96'),
    line((s) => s.heapMb, '#d6336c'),
    `<text x="${width - right}" y="${y(last.rssMb) - 6}" text-anchor="end" fill="#495057">RSS ${last.rssMb.toFixed(0)} MB</text>`,
    `<text x="${width - right}" y="${y(last.heapMb) - 6}" text-anchor="end" fill="#d6336c">heap ${last.heapMb.toFixed(1)} MB</text>`,
    '</svg>',
    '',
  ].join('\n');
}
