/**
 * The Redis nodes: one connection and what it watches (restarts, eviction, stalls, release
 * notices), node URLs, counting votes into a quorum, and what a node's error means.
 */
export { RedisNode, connectionOptionsOf, type RedisNodeSpec } from './redis-node.js';
export { parseRedisUrl } from './redis-url.js';
export { collectVotes, type Ballot, type Tally } from './quorum.js';
export { VoteDeadlines } from './vote-deadlines.js';
export { assertDistinctNodes } from './distinct-nodes.js';
export { diagnose, adviceFor, describeWithAdvice, type NodeProblem } from './node-diagnosis.js';
export { hashSlot } from './hash-slot.js';
export type { EvictingNodes } from './eviction-watch.js';
