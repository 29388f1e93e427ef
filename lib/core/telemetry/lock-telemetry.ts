import { randomBytes } from 'node:crypto';
import type { NodeFailure } from '../errors/quorum-unavailable.error.js';
import type { NodeVote } from '../errors/node-vote.js';
import { isLockError } from '../errors/is-lock-error.js';
import type { Lock } from '../lock.js';
import { monotonicNow } from '../util/clock.js';
import type { VotesObserver } from '../votes-observer.js';
import type {
  Attributes,
  OtelApi,
  OtelCounter,
  OtelHistogram,
  OtelObservableGauge,
  OtelObservableResult,
  OtelSpan,
  OtelTracer,
} from './otel-api.js';
import { resourceNames, type TelemetryResources } from './resource-names.js';
import type { TraceLabels } from './trace-labels.js';
import { guarded } from './guarded.js';

/** The instrumentation scope of the package's tracer and meter. */
export const INSTRUMENTATION_SCOPE = 'nestjs-redlock';
/** The package's version, as its scope's version (a test keeps it equal to package.json's). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/**
 * The bucket boundaries of the wait and hold histograms, in seconds: from half a millisecond
 * (an uncontended lock on a local network) to a minute (a long wait in line).
 */
export const DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** How an acquisition ended, as the `redlock.outcome` attribute says it. */
export type AcquireOutcome = 'acquired' | 'locked' | 'unavailable' | 'aborted' | 'error';

/** How an extension ended, as the `redlock.outcome` attribute says it. */
export type ExtendOutcome = 'extended' | 'lost' | 'unavailable' | 'error';

/** A lock's kind, as the `redlock.lock.mode` attribute says it. */
type LockMode = 'write' | 'read' | 'permit';

/**
 * One engine's spans and metrics through `@opentelemetry/api` (see the README's
 * "OpenTelemetry" section for every name). Without an SDK the API hands out no-op spans and
 * instruments; attributes are computed only for spans that record. Every call into the API is
 * {@link guarded}: whatever the app's SDK throws, the lock behaves the same.
 */
export class LockTelemetry {
  private readonly tracer: OtelTracer;
  private readonly waits: OtelHistogram;
  private readonly holds: OtelHistogram;
  private readonly acquisitions: OtelCounter;
  private readonly lostLocks: OtelCounter;
  private readonly reachable: OtelObservableGauge;
  private readonly observeReachable: (result: OtelObservableResult) => void;

  constructor(
    private readonly api: OtelApi,
    private readonly policy: TelemetryResources,
    nodesUp: () => number,
  ) {
    this.tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION);
    const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION);
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS_S };
    this.waits = meter.createHistogram('redlock.lock.wait.duration', {
      description: 'Time from asking for a lock to getting it or giving up',
      unit: 's',
      advice,
    });
    this.holds = meter.createHistogram('redlock.lock.hold.duration', {
      description: 'Time a lock was held, from its grant to its release',
      unit: 's',
      advice,
    });
    this.acquisitions = meter.createCounter('redlock.lock.acquisitions', {
      description: 'Acquisitions, by outcome',
      unit: '{acquisition}',
    });
    this.lostLocks = meter.createCounter('redlock.lock.lost', {
      description: 'Locks lost while held (expired, or no longer held by a quorum)',
      unit: '{lock}',
    });
    this.reachable = meter.createObservableGauge('redlock.nodes.reachable', {
      description: 'Nodes whose connection is up, per Redlock instance',
      unit: '{node}',
    });
    const instance = randomBytes(4).toString('hex');
    this.observeReachable = (result) =>
      result.observe(nodesUp(), { 'redlock.instance.id': instance });
    this.reachable.addCallback(this.observeReachable);
  }

  /** Starts the span of an acquisition of `resources`; `undefined` if the API threw. */
  acquisition(
    resources: readonly string[],
    mode: LockMode,
    labels?: TraceLabels,
  ): AcquireTrace | undefined {
    return guarded(() => {
      const name = labels ? `redlock.acquire ${labels.operation}` : 'redlock.acquire';
      const span = this.tracer.startSpan(name);
      if (span.isRecording()) {
        span.setAttributes(this.lockAttributes(resources, mode, labels));
        if (labels) span.setAttribute('code.function.name', labels.operation);
      }
      return new AcquireTrace(span, mode, this, this.api.SpanStatusCode.ERROR);
    });
  }

  /** Starts the span of a release or an extension of `lock`; `undefined` if the API threw. */
  operation(kind: 'release' | 'extend', lock: Lock): OperationTrace | undefined {
    return guarded(() => {
      const span = this.tracer.startSpan(`redlock.${kind}`);
      if (span.isRecording()) span.setAttributes(this.lockAttributes(lock.resources, lock.mode));
      return new OperationTrace(span, this.api.SpanStatusCode.ERROR);
    });
  }

  /** Records how long `lock` was held, from `grantedAt` (monotonic ms) until now. */
  held(lock: Lock, grantedAt: number): void {
    guarded(() =>
      this.holds.record((monotonicNow() - grantedAt) / 1000, { 'redlock.lock.mode': lock.mode }),
    );
  }

  /** Counts a lock lost while held. */
  lost(lock: Lock): void {
    guarded(() => this.lostLocks.add(1, { 'redlock.lock.mode': lock.mode }));
  }

  /** Stops observing the nodes (the engine has quit). */
  close(): void {
    guarded(() => this.reachable.removeCallback(this.observeReachable));
  }

  /** @internal Records the end of an acquisition in the metrics (its caller is guarded). */
  acquisitionEnded(outcome: AcquireOutcome, mode: LockMode, waitedMs: number): void {
    const attributes = { 'redlock.outcome': outcome, 'redlock.lock.mode': mode };
    this.acquisitions.add(1, attributes);
    this.waits.record(waitedMs / 1000, attributes);
  }

  private lockAttributes(
    resources: readonly string[],
    mode: LockMode,
    labels?: TraceLabels,
  ): Attributes {
    return {
      'redlock.resource.count': resources.length,
      'redlock.resource.names': resourceNames(resources, this.policy, labels?.templates),
      'redlock.lock.mode': mode,
    };
  }
}

/** The span of one acquisition, ended once with its outcome. */
export class AcquireTrace {
  private readonly startedAt = monotonicNow();
  /** Set by the acquisition when it joins a wait queue. */
  readonly progress = { queued: false };
  /** Adds each node that failed in a round as a span event; only for a recording span. */
  readonly observer: VotesObserver | undefined;

  constructor(
    private readonly span: OtelSpan,
    private readonly mode: LockMode,
    private readonly telemetry: LockTelemetry,
    private readonly errorStatus: number,
  ) {
    if (span.isRecording()) {
      this.observer = (votes) => guarded(() => addNodeVoteEvents(span, votes));
    }
  }

  /** The lock was granted. */
  acquired(lock: Lock): void {
    guarded(() => this.end('acquired', lock.attempts, lock.fencingToken !== undefined));
  }

  /** The acquisition failed with `error`; `aborted`: its signal aborted, or the engine quit. */
  failed(error: unknown, aborted: boolean): void {
    const attempts =
      isLockError(error, 'RESOURCE_LOCKED') || isLockError(error, 'QUORUM_UNAVAILABLE')
        ? error.attempts
        : undefined;
    guarded(() => this.end(aborted ? 'aborted' : outcomeOf(error), attempts, false, error));
  }

  private end(
    outcome: AcquireOutcome,
    attempts: number | undefined,
    fenced: boolean,
    error?: unknown,
  ): void {
    const waitedMs = monotonicNow() - this.startedAt;
    this.telemetry.acquisitionEnded(outcome, this.mode, waitedMs);
    const span = this.span;
    if (span.isRecording()) {
      span.setAttributes({
        'redlock.outcome': outcome,
        'redlock.wait_ms': Math.round(waitedMs * 1000) / 1000,
        'redlock.queued': this.progress.queued,
        'redlock.fencing_token': fenced,
      });
      if (attempts !== undefined) span.setAttribute('redlock.attempts', attempts);
      if (error !== undefined) span.setAttribute('error.type', errorType(error));
      if (outcome === 'unavailable' || outcome === 'error') {
        span.setStatus({ code: this.errorStatus, message: errorType(error) });
      }
    }
    span.end();
  }
}

/** The span of one release or extension. */
export class OperationTrace {
  constructor(
    private readonly span: OtelSpan,
    private readonly errorStatus: number,
  ) {}

  /** Adds each node that failed as a span event. */
  nodeFailures(failures: readonly NodeFailure[]): void {
    guarded(() => {
      if (!this.span.isRecording()) return;
      for (const { node, error } of failures) addNodeEvent(this.span, node, 'failed', error);
    });
  }

  /** A release ended; `held`: whether a quorum still held the lock. */
  released(held: boolean): void {
    guarded(() => {
      if (this.span.isRecording()) this.span.setAttribute('redlock.held', held);
      this.span.end();
    });
  }

  /** An extension ended. */
  extended(outcome: ExtendOutcome, error?: unknown): void {
    const span = this.span;
    guarded(() => {
      if (span.isRecording()) {
        span.setAttribute('redlock.outcome', outcome);
        if (error !== undefined) span.setAttribute('error.type', errorType(error));
        if (outcome !== 'extended') {
          span.setStatus({ code: this.errorStatus, message: errorType(error) });
        }
      }
      span.end();
    });
  }
}

/** An extension's outcome from its error. */
export function extendOutcomeOf(error: unknown): ExtendOutcome {
  if (isLockError(error, 'LOCK_LOST')) return 'lost';
  return isLockError(error, 'QUORUM_UNAVAILABLE') ? 'unavailable' : 'error';
}

function outcomeOf(error: unknown): AcquireOutcome {
  if (isLockError(error, 'RESOURCE_LOCKED')) return 'locked';
  if (isLockError(error, 'QUORUM_UNAVAILABLE')) return 'unavailable';
  return isLockError(error, 'REDLOCK_CLOSED') ? 'aborted' : 'error';
}

/** `error.type`: the package's error code, or the error's class name. */
function errorType(error: unknown): string {
  if (isLockError(error)) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

function addNodeVoteEvents(span: OtelSpan, votes: readonly NodeVote[]): void {
  for (const { node, vote, error } of votes) {
    if (error) addNodeEvent(span, node, vote, error);
  }
}

/** The span event of a node that failed (or whose vote did not count). */
function addNodeEvent(span: OtelSpan, node: string, vote: string, error: Error): void {
  span.addEvent('redlock.node_error', {
    'redlock.node': node,
    'redlock.vote': vote,
    'error.type': errorType(error),
    'exception.message': error.message,
  });
}
