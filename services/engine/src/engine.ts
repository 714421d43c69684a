import { setTimeout as delay } from 'node:timers/promises';
import { context } from '@opentelemetry/api';
import {
  claimOutboxBatchWithin,
  completeItems,
  handedItem,
  isCompleteHandoff,
  releaseUnheldLeases,
  type HandoffPayload,
  continueWith,
  extendLeases,
  GroupCommitter,
  oldestSignal,
  type CompletionRequest,
  LeaseLostError,
  releaseLeases,
  type ClaimedItem,
  type CompletionOutcome,
  type Db,
} from '@sagaflow/db';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import { recordAttemptCrash, recordAttemptOutcome, startAttemptSpan, type AttemptTrace } from './attempt-span.js';
import type { DefinitionCache } from './definition-cache.js';
import type { EngineMetrics } from './metrics.js';
import { recordCompletion } from './record-completion.js';
import { LeaseRunOutError, runAttempt, type AttemptOutcome, type AttemptSettings } from './run-attempt.js';
import { WakeSignal } from './wake-signal.js';
import { Cancel } from './cancel.js';
import { Registration } from './registration.js';

export interface EngineOptions extends AttemptSettings {
  id: string;
  concurrency: number;
  batchSize: number;
  leaseMs: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  /** how often held leases are extended; default leaseMs / 3 */
  heartbeatIntervalMs?: number;
  /** at most this many completions share one commit (group commit); default 64 */
  completionBatchSize?: number;
  /**
   * Payload bytes (input, context, outputs: ClaimedItem.payloadBytes) the in-flight items may hold before the engine
   * stops claiming; the item that crosses it is still taken, so one item larger than this runs alone.
   */
  maxInflightBytes: number;
  /**
   * Take runs' first steps straight from their start (docs/architecture.md#the-first-step-handed-to-an-engine): the
   * engine registers in `engines` with this LISTEN channel and the backend pid of the connection listening on it
   * (`listenPid()`, undefined while not listening), and each notification on the channel goes to `receiveHandoff`.
   * Without it the engine only claims.
   */
  handoff?: { channel: string; listenPid: () => number | undefined };
}

interface InFlight {
  item: ClaimedItem;
  /** bound to the run's ids: every line about this item goes through it */
  log: Logger;
  abort: Cancel;
  done: Promise<void>;
  /** the payload bytes counted for this slot (its current item's) */
  bytes: number;
}

/**
 * The engine: a visible loop that claims due outbox items and runs up to `concurrency` attempts at once.
 * All state is in Postgres; this object only holds the leases it is working on.
 */
export class Engine {
  /** by launch, not by outbox id: the same item can be in flight twice (its lease expired and this engine claimed it again) */
  private readonly inFlight = new Map<number, InFlight>();
  private launches = 0;
  /** sum of the in-flight slots' bytes */
  private inFlightBytes = 0;
  private readonly released = new Set<string>();
  private readonly wake = new WakeSignal();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private nextRetryAt: number | undefined;
  /** the last claim may have left due items behind (it took all it asked for, or had no free slot) */
  private maybeMoreDue = false;
  /** group commit: attempts that finish while a completion statement is in flight share the next one (one per run) */
  private readonly completions: GroupCommitter<CompletionRequest, CompletionOutcome>;
  /** false while Postgres is failing the claim */
  healthy = true;
  /** runs of handed items being taken (their definition is being read): not swept back */
  private readonly arriving = new Set<string>();
  /** slots the claim in flight asked for: a handed item does not take them */
  private claimingSlots = 0;
  /** handed items with no free slot, to go back to the outbox together (one statement), and that statement */
  private handBack: Array<{ id: string; leaseToken: string }> = [];
  private handingBack: Promise<void> | undefined;
  /** the handoff channel was listened to again: the loop hands back what may have been missed, between two claims */
  private sweepWanted = false;
  /** item ids the last sweep handed back: a late notification of one of them is dropped */
  private swept = new Set<string>();
  /** this engine's row in `engines`, when it takes handed first steps */
  private readonly registration: Registration | undefined;
  /** the handoff channel was listened on before: a new connection may have missed notifications */
  private listenedBefore = false;
  /** notifications that came while unheld leases were being handed back, taken once that is done */
  private sweepHolds: string[] | undefined;
  /**
   * Until when (performance.now()) each held item's lease surely runs: counted from before the statement that set it
   * was sent (claim, carried completion, heartbeat), or from the start's own time for a handed item. No request is
   * sent for an item past it: an engine that stalled (SIGSTOP, a VM pause) longer than its lease may read claims and
   * handed items late, when another engine may already have run them and the run ended (SPEC §11).
   */
  private readonly leaseDeadlines = new WeakMap<ClaimedItem, number>();
  /** a request is not sent with less than this left of its lease */
  private readonly sendMarginMs: number;

  constructor(
    private readonly db: Db,
    private readonly definitions: DefinitionCache,
    private readonly agent: Agent,
    private readonly options: EngineOptions,
    private readonly logger: Logger,
    private readonly metrics?: EngineMetrics,
  ) {
    this.sendMarginMs = Math.min(1_000, options.leaseMs / 10);
    const handoff = options.handoff;
    this.registration = handoff
      ? new Registration(
          db,
          { id: options.id, ...handoff, leaseMs: options.leaseMs, concurrency: options.concurrency },
          () => this.inFlight.size + this.claimingSlots,
          logger,
        )
      : undefined;
    this.completions = new GroupCommitter({
      commit: (batch) => completeItems(db, batch),
      key: (r) => r.item.runId,
      maxBatch: options.completionBatchSize,
    });
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** New work may be due (a NOTIFY arrived): cut the current wait short. */
  notify(): void {
    this.wake.signal();
  }

  start(): void {
    if (this.loop) return;
    const every = this.options.heartbeatIntervalMs ?? Math.floor(this.options.leaseMs / 3);
    this.heartbeat = setInterval(() => void this.extendHeldLeases(), every);
    this.registration?.start();
    this.loop = this.runLoop();
  }

  /**
   * A notification on the handoff channel: a start leased its run's first item to this engine (payload), or the
   * channel was (re)listened to (empty payload). Never throws.
   */
  receiveHandoff(payload: string): void {
    if (payload === '') {
      if (this.listenedBefore) {
        this.sweepWanted = true;
        this.wake.signal();
      }
      this.listenedBefore = true;
      return;
    }
    if (this.sweepHolds) {
      this.sweepHolds.push(payload);
      return;
    }
    void this.takeHanded(payload).catch((error: unknown) => {
      this.logger.error({ err: error }, 'could not take a handed item; its lease will expire and the item be claimed');
    });
  }

  /**
   * Starts a handed item at once, or hands it back to the outbox: it is never kept waiting here, where a pause or a
   * cancel of its run would not reach it (a claim checks both when it leases; a handed item counts as in flight from
   * its start, so only one that starts at once may).
   */
  private async takeHanded(payload: string): Promise<void> {
    const p = JSON.parse(payload) as HandoffPayload;
    if (this.swept.has(p.i)) return;
    this.arriving.add(p.r);
    let definition;
    try {
      definition = isCompleteHandoff(p) && !this.stopping ? await this.definitions.get(p.n, p.v) : undefined;
    } finally {
      this.arriving.delete(p.r);
    }
    const slotFree =
      this.inFlight.size + this.claimingSlots < this.options.concurrency &&
      this.inFlightBytes < this.options.maxInflightBytes;
    // the start leased it for leaseMs from its own time (the database's clock, as this engine estimates it)
    const handedAt = isCompleteHandoff(p) ? Date.parse(p.at) : NaN;
    const sinceHanded = Number.isFinite(handedAt)
      ? Math.max(0, (this.registration?.databaseNow() ?? Date.now()) - handedAt)
      : 0;
    const leaseLeft = this.options.leaseMs - sinceHanded;
    if (!isCompleteHandoff(p) || !definition || this.stopping || !slotFree || leaseLeft < this.sendMarginMs) {
      // too large to hand over in a payload, we are stopping, our slots are full, or it reached us too late (this
      // engine stalled): back to the outbox for a claim (a no-op when another engine took it meanwhile)
      if (isCompleteHandoff(p) && leaseLeft < this.sendMarginMs)
        this.logger.warn(
          { runId: p.r, outboxId: p.i },
          'handed item arrived as its lease ran out; not sent, handed back',
        );
      this.handBackLater({ id: p.i, leaseToken: p.t });
      return;
    }
    this.metrics?.runsTaken.inc({ via: 'handoff' });
    const item = handedItem(p, definition.steps, payload.length);
    this.leaseDeadlines.set(item, performance.now() + leaseLeft);
    this.launch(item);
    this.registration?.noteLoad();
  }

  /** Hands an item back to the outbox (due now, unleased) with the others of this turn, in one statement. */
  private handBackLater(lease: { id: string; leaseToken: string }): void {
    this.handBack.push(lease);
    if (this.handingBack) return;
    this.handingBack = (async () => {
      // the rest of this turn's notifications join the statement
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.handBack.length > 0) {
        const leases = this.handBack;
        this.handBack = [];
        await releaseLeases(this.db, leases).catch((error: unknown) =>
          this.logger.warn({ err: error }, 'could not hand back handed items; their leases will expire'),
        );
      }
      this.handingBack = undefined;
      this.wake.signal();
    })();
  }

  /**
   * The handoff channel is listened to again after its connection was lost: what starts handed this engine meanwhile
   * never reached it, so every item leased to us whose run is not in a slot here goes back to the outbox. Runs in the
   * loop, between two claims, so no claimed item is on its way to a slot; notifications that arrive meanwhile wait,
   * and the ones it handed back are dropped (also when they arrive later).
   */
  private async sweepUnheld(): Promise<void> {
    this.sweepWanted = false;
    const holds: string[] = (this.sweepHolds = []);
    try {
      const runs = [...this.inFlight.values()].map((f) => f.item.runId).concat([...this.arriving]);
      this.swept = new Set(await releaseUnheldLeases(this.db, this.options.id, runs));
      if (this.swept.size > 0)
        this.logger.info({ released: this.swept.size }, 'handed back items missed while not listening');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not hand back missed items; their leases will expire');
    } finally {
      this.sweepHolds = undefined;
      for (const payload of holds) this.receiveHandoff(payload);
    }
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      let more = false;
      try {
        if (this.sweepWanted) await this.sweepUnheld();
        more = await this.tick();
        this.healthy = true;
      } catch (error) {
        if (this.healthy) this.logger.warn({ err: error }, 'claim failed; will retry');
        this.healthy = false;
      }
      if (!more && !this.stopping) await this.wake.wait(this.waitMs());
    }
  }

  private waitMs(): number {
    const poll = this.options.pollIntervalMs;
    if (this.nextRetryAt === undefined) return poll;
    const until = this.nextRetryAt - Date.now();
    if (until <= 0) this.nextRetryAt = undefined;
    return Math.max(0, Math.min(poll, until));
  }

  get inFlightPayloadBytes(): number {
    return this.inFlightBytes;
  }

  /**
   * One claim: takes as many due items as there are free slots (up to the batch size) and room in the byte budget, and
   * starts them. True when a full batch came back and there is room left, so more may be due.
   */
  async tick(): Promise<boolean> {
    const free = this.options.concurrency - this.inFlight.size;
    const room = this.options.maxInflightBytes - this.inFlightBytes;
    if (this.stopping) return false;
    if (free <= 0 || room <= 0) {
      this.maybeMoreDue = true;
      return false;
    }
    const want = Math.min(this.options.batchSize, free);
    // the slots asked for are kept from handed items until the claim's items are in them
    this.claimingSlots = want;
    let claimed;
    const claimSentAt = performance.now();
    try {
      claimed = await claimOutboxBatchWithin(this.db, this.options.id, want, this.options.leaseMs, room);
    } finally {
      this.claimingSlots = 0;
    }
    const { items, leftOut } = claimed;
    this.maybeMoreDue = items.length === want || leftOut > 0;
    for (const item of items) {
      this.leaseDeadlines.set(item, claimSentAt + this.options.leaseMs);
      if (item.started) this.metrics?.runsTaken.inc({ via: 'claim' });
      this.launch(item);
    }
    this.registration?.noteLoad();
    return (
      items.length === want &&
      this.inFlight.size < this.options.concurrency &&
      this.inFlightBytes < this.options.maxInflightBytes
    );
  }

  /**
   * Runs an item in a slot of its own. When its completion carries the lease on to the run's next item (due now),
   * the same slot goes straight on with that one: no claim, no wake-up, between the steps of a run.
   */
  private launch(item: ClaimedItem): void {
    const slot = this.launches++;
    const abort = new Cancel();
    const entry = { item, log: this.logger, abort, bytes: item.payloadBytes } as InFlight;
    this.inFlightBytes += entry.bytes;
    entry.done = (async () => {
      for (let current: ClaimedItem | undefined = item; current;) {
        const attemptTrace = startAttemptSpan(current);
        const log = this.logger.child({
          correlationId: current.run.correlationId,
          runId: current.runId,
          workflowName: current.run.workflowName,
          stepId: current.stepId,
          kind: current.kind,
          attemptNo: current.attemptsMade + 1,
          ...(attemptTrace.traceId ? { traceId: attemptTrace.traceId } : {}),
        });
        entry.item = current;
        entry.log = log;
        this.inFlightBytes += current.payloadBytes - entry.bytes;
        entry.bytes = current.payloadBytes;
        try {
          current = await this.process(current, abort, log, attemptTrace);
        } catch (error) {
          log.error({ err: error }, 'attempt crashed; the lease will expire and the item be redelivered');
          current = undefined;
        }
      }
    })().finally(() => {
      this.inFlight.delete(slot);
      this.inFlightBytes -= entry.bytes;
      this.released.delete(item.id);
      this.registration?.noteLoad();
      // a slot is free: claim again at once only if the last claim may have left due work behind (otherwise new work
      // announces itself by NOTIFY, a retry time of ours, or the poll)
      if (this.maybeMoreDue) this.wake.signal();
    });
    this.inFlight.set(slot, entry);
  }

  /** One item, inside its attempt span: the attempt, then its commit. Returns the next item when its lease was carried on. */
  private async process(
    item: ClaimedItem,
    signal: Cancel,
    log: Logger,
    attemptTrace: AttemptTrace,
  ): Promise<ClaimedItem | undefined> {
    // the claim moved the run PENDING → RUNNING in the same statement; this is the one place that sees it
    // logged once the request is on its way: a log line is a synchronous write, kept off the critical path
    if (item.started) setImmediate(() => log.info({ from: 'PENDING', to: 'RUNNING' }, 'run transition'));
    const { span } = attemptTrace;
    try {
      return await context.with(attemptTrace.context, () => this.attemptAndCommit(item, signal, log, attemptTrace));
    } catch (error) {
      recordAttemptCrash(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  private async attemptAndCommit(
    item: ClaimedItem,
    signal: Cancel,
    log: Logger,
    attemptTrace: AttemptTrace,
  ): Promise<ClaimedItem | undefined> {
    const definition = await this.definitions.get(item.run.workflowName, item.run.workflowVersion);
    const step = definition?.steps[item.stepIndex];
    // a waitForSignal step takes the oldest unconsumed signal of its name; the commit consumes it under the lease
    const waitsFor = item.kind === 'action' ? step?.waitForSignal?.name : undefined;
    const mailbox = waitsFor === undefined ? undefined : await oldestSignal(this.db, item.runId, waitsFor);
    let outcome: AttemptOutcome;
    try {
      outcome = await runAttempt(item, step, this.agent, this.options, {
        signal,
        traceHeaders: attemptTrace.headers,
        mailbox,
        leaseHeld: () => this.leaseHeld(item),
      });
    } catch (error) {
      if (!(error instanceof LeaseRunOutError)) throw error;
      attemptTrace.span.addEvent('lease ran out before the request was sent; not sent');
      log.warn(
        { outboxId: item.id },
        'lease ran out before the request was sent (the engine stalled); not sent, another engine redoes the attempt',
      );
      return undefined;
    }
    recordAttemptOutcome(attemptTrace.span, outcome);
    if (this.released.has(item.id)) return undefined; // handed back at shutdown: the next owner redoes it
    let completion: CompletionOutcome;
    const commitStartedAt = performance.now();
    try {
      completion = await this.commit(item, outcome, log);
      this.metrics?.stepCommit.observe((performance.now() - commitStartedAt) / 1000);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        attemptTrace.span.addEvent('lease lost; result discarded');
        log.warn(
          { outboxId: item.id },
          'lease lost before completion; result discarded (another engine redoes the attempt)',
        );
        return undefined;
      }
      throw error;
    }
    // after the next attempt's request has gone out (the carried item goes on at once)
    setImmediate(() => {
      try {
        recordCompletion(log, this.metrics, item, outcome, completion);
      } catch (error) {
        log.error({ err: error }, 'could not log or count a committed completion');
      }
    });
    if (outcome.result.outcome === 'RETRYABLE') this.noteRetry(outcome.result.retryAt.getTime());
    // a wait of ours ends then (or a signal wakes it earlier through NOTIFY)
    if (outcome.result.outcome === 'WAITING') this.noteRetry(outcome.result.wait.until.getTime());
    const next = continueWith(item, outcome.result, completion);
    // the completion statement leased it on for leaseMs, and was sent after commitStartedAt
    if (next) this.leaseDeadlines.set(next, commitStartedAt + this.options.leaseMs);
    return next;
  }

  /** The item's lease runs long enough to send its request (see leaseDeadlines). */
  private leaseHeld(item: ClaimedItem): boolean {
    return (this.leaseDeadlines.get(item) ?? Infinity) - performance.now() >= this.sendMarginMs;
  }

  /** Commits an outcome, retrying transient database errors while the lease can still be ours. */
  private async commit(item: ClaimedItem, outcome: AttemptOutcome, log: Logger): Promise<CompletionOutcome> {
    const deadline = Date.now() + this.options.leaseMs;
    for (let wait = 50; ; wait = Math.min(wait * 2, 1_000)) {
      try {
        // while stopping, hand what comes next back to the outbox instead of carrying it on
        const carryOver = this.stopping ? undefined : { owner: this.options.id, leaseMs: this.options.leaseMs };
        return await this.completions.submit({ item, attempt: outcome.attempt, result: outcome.result, carryOver });
      } catch (error) {
        if (error instanceof LeaseLostError || Date.now() + wait > deadline) throw error;
        log.warn({ err: error }, 'completion failed; retrying');
        await delay(wait);
      }
    }
  }

  /** A retry of ours is due at `at`: the loop's current wait may be longer than that, so it is recomputed. */
  private noteRetry(at: number): void {
    if (this.nextRetryAt === undefined || at < this.nextRetryAt) {
      this.nextRetryAt = at;
      this.wake.signal();
    }
  }

  private async extendHeldLeases(): Promise<void> {
    const flights = [...this.inFlight.values()];
    // the items as they are now: by the time the statement answers, a slot may have gone on to its run's next item
    // (the same outbox id under a new lease token, which this statement did not extend)
    const items = flights.map((f) => f.item);
    const held = items.map((item) => ({ id: item.id, leaseToken: item.leaseToken }));
    if (held.length === 0) return;
    const sentAt = performance.now();
    try {
      const kept = new Set(await extendLeases(this.db, held, this.options.leaseMs));
      for (const [i, item] of items.entries()) {
        if (kept.has(item.id)) this.leaseDeadlines.set(item, sentAt + this.options.leaseMs);
        else {
          this.leaseDeadlines.set(item, -Infinity);
          const f = flights[i]!;
          if (f.item === item) f.log.warn({ outboxId: item.id }, 'lease no longer held; its result will not commit');
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'lease heartbeat failed');
    }
  }

  /** Stops claiming, lets in-flight attempts finish within the grace period, hands back the rest. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake.signal();
    // starts hand this engine nothing more
    await this.registration?.stop();
    await this.loop;
    // handed items that arrived while stopping go back to the outbox
    await this.handingBack;
    const grace = delay(this.options.shutdownGraceMs, 'timeout' as const);
    const finished = Promise.all([...this.inFlight.values()].map((f) => f.done)).then(() => 'done' as const);
    if ((await Promise.race([finished, grace])) === 'timeout') {
      const left = [...this.inFlight.values()];
      for (const f of left) {
        this.released.add(f.item.id);
        f.abort.abort();
      }
      const count = await releaseLeases(
        this.db,
        left.map((f) => ({ id: f.item.id, leaseToken: f.item.leaseToken })),
      ).catch(() => 0);
      this.logger.info({ released: count }, 'released unfinished items');
      await Promise.all(left.map((f) => f.done));
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
  }
}
