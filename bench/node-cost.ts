/**
 * What the Redis nodes spend per lock operation, summed over the nodes: the commands they ran
 * (INFO commandstats, by name; commands inside scripts count too) and their CPU time (INFO
 * cpu: user + system, which covers parsing and network I/O as well as the commands). A
 * library's client-side speed is one half of its cost; the nodes' CPU, shared by every
 * service instance, is the other.
 */
import { Redis } from 'ioredis';

/** Per operation, over every node. */
export interface NodeCost {
  /** Node CPU time, in microseconds. */
  readonly cpuUsecPerOp: number;
  /** Time inside scripts (EVAL/EVALSHA), in microseconds, part of the CPU time. */
  readonly scriptUsecPerOp: number;
  /** Commands by name, e.g. `{ evalsha: 6, exists: 6 }` (inside scripts too). */
  readonly commandsPerOp: Readonly<Record<string, number>>;
}

/** A node's CPU seconds (user + system) from INFO cpu. */
function cpuSeconds(info: string): number {
  const read = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

/** Calls and microseconds per command, from INFO commandstats. */
function commandStats(info: string): Map<string, { calls: number; usec: number }> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** The probes' own commands, left out of the counts. */
const PROBE_COMMANDS = new Set(['config|resetstat', 'info']);

/**
 * Resets the nodes' command statistics and reads their CPU time; `done(ops)` then answers the
 * cost per operation of what ran in between, and closes the probes.
 */
export async function measureNodeCost(
  urls: readonly string[],
): Promise<{ done(ops: number): Promise<NodeCost> }> {
  const probes = urls.map((url) => new Redis(url));
  await Promise.all(probes.map((probe) => probe.config('RESETSTAT')));
  const cpuBefore = await Promise.all(probes.map((probe) => probe.info('cpu')));
  return {
    async done(ops) {
      try {
        const per = (value: number) => value / Math.max(ops, 1);
        const cpuAfter = await Promise.all(probes.map((probe) => probe.info('cpu')));
        const stats = await Promise.all(probes.map((probe) => probe.info('commandstats')));
        let cpu = 0;
        cpuAfter.forEach((info, index) => (cpu += cpuSeconds(info) - cpuSeconds(cpuBefore[index])));
        const commandsPerOp: Record<string, number> = {};
        let scriptUsec = 0;
        for (const [name, { calls, usec }] of stats.flatMap((info) => [...commandStats(info)])) {
          if (PROBE_COMMANDS.has(name)) continue;
          commandsPerOp[name] = (commandsPerOp[name] ?? 0) + per(calls);
          if (name === 'evalsha' || name === 'eval') scriptUsec += usec;
        }
        return {
          cpuUsecPerOp: per(cpu * 1e6),
          scriptUsecPerOp: per(scriptUsec),
          commandsPerOp,
        };
      } finally {
        probes.forEach((probe) => probe.disconnect());
      }
    },
  };
}

/** `evalsha 6, exists 6, set 3`: the commands per operation, most first. */
export function describeCommands(commands: Readonly<Record<string, number>>): string {
  return Object.entries(commands)
    .filter(([, count]) => count >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${Number(count.toFixed(1))}`)
    .join(', ');
}
