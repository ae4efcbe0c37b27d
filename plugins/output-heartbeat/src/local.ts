import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Spool, spoolPath, type Counter, type Event, type Gauge, type OutputInstance, type PluginContext, type TimerHandle } from '@pipeline/core';
import type { BuildResult, HeartbeatBody } from './heartbeat-body.js';

export interface LocalOptions {
  /** JSON lines file the timeout and recovery alerts are appended to. */
  alertPath: string;
  /** Seconds a heartbeat stays fresh when it carries no timeout (Alerta's HEARTBEAT_TIMEOUT). */
  defaultTimeoutS: number;
  timeoutEvent: string;
  okEvent: string;
  spoolPath?: string;
}

/** What is remembered per origin, in the spool's key/value table (so a restart keeps it). */
interface OriginState {
  lastMs: number;
  timeoutS: number;
  tags: string[];
  attributes: Record<string, unknown>;
  /** Set while a timeout alert is standing for this origin. */
  downSinceMs?: number;
}

const STATE_KEY = 'local-heartbeats';
/** Longest single wait on the clock: deadlines further away are re-checked (node timers overflow at 24.8 days). */
const MAX_WAIT_MS = 3_600_000;
/** Retry delay after the alert file could not be written. */
const WRITE_RETRY_MS = 30_000;

/**
 * Local mode, for users without Alerta: Alerta's heartbeat check done here. The output remembers
 * the last heartbeat per origin and, when none arrived within its timeout (measured on ctx.clock),
 * raises an alert; when the origin is heard from again it clears it. An output cannot put events
 * back into the pipeline, so alerts are appended as JSON lines with Alerta's alert fields to
 * `alertPath` and logged at warn. The timer is armed for the earliest deadline, so an alert is
 * written when the timeout is reached, not before and not a polling interval late.
 */
export class LocalHeartbeatMonitor implements OutputInstance {
  readonly spool: Spool;
  private readonly origins = new Map<string, OriginState>();
  private timer: TimerHandle | undefined;
  private armedDue = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly alertOrigin: string;
  private readonly m: { delivered: Counter; failed: Counter; timeouts: Counter; cleared: Counter; down: Gauge; origins: Gauge };

  /** Opens the state's spool (waiting while its disk is full), then the monitor. */
  static async open(o: LocalOptions, build: (ev: Event) => BuildResult, ctx: PluginContext): Promise<LocalHeartbeatMonitor> {
    const spool = await Spool.open({ path: spoolPath(ctx, 'heartbeat', o.spoolPath), clock: ctx.clock, logger: ctx.logger, what: 'heartbeat spool' });
    return new LocalHeartbeatMonitor(o, build, ctx, spool);
  }

  constructor(
    private readonly o: LocalOptions,
    private readonly build: (ev: Event) => BuildResult,
    private readonly ctx: PluginContext,
    spool: Spool,
  ) {
    this.spool = spool;
    mkdirSync(dirname(o.alertPath), { recursive: true });
    this.alertOrigin = `pipeline/${ctx.pipelineId}/${ctx.id}`;
    this.m = {
      delivered: ctx.metrics.counter('delivered'),
      failed: ctx.metrics.counter('failed'),
      timeouts: ctx.metrics.counter('timeouts'),
      cleared: ctx.metrics.counter('cleared'),
      down: ctx.metrics.gauge('origins_down'),
      origins: ctx.metrics.gauge('origins'),
    };
    const saved = this.spool.getState(STATE_KEY);
    if (saved) {
      try {
        for (const [origin, st] of Object.entries(JSON.parse(saved) as Record<string, OriginState>)) this.origins.set(origin, st);
      } catch (err) {
        ctx.logger.error({ err: (err as Error).message }, 'heartbeat: saved heartbeat state unreadable; starting afresh');
      }
      if (this.origins.size > 0) ctx.logger.info({ origins: this.origins.size }, 'heartbeat: watching origins remembered from before the restart');
    }
    this.updateGauges();
    this.arm();
  }

  receive(events: readonly Event[]): void {
    const now = this.ctx.clock.now();
    let changed = false;
    for (const ev of events) {
      const built = this.build(ev);
      if (!built.ok) {
        this.m.failed.inc();
        this.spool.deadLetterNew(JSON.stringify(built.body), 'invalid', built.reason);
        this.ctx.logger.error({ reason: built.reason, origin: built.body.origin }, 'heartbeat: ignored, it is invalid');
        continue;
      }
      this.record(built.body, now);
      changed = true;
    }
    if (!changed) return;
    this.save();
    this.updateGauges();
    this.arm();
  }

  private record(hb: HeartbeatBody, now: number): void {
    const prev = this.origins.get(hb.origin);
    const st: OriginState = {
      lastMs: now,
      timeoutS: hb.timeout !== undefined && hb.timeout > 0 ? hb.timeout : this.o.defaultTimeoutS,
      tags: hb.tags,
      attributes: hb.attributes,
      downSinceMs: prev?.downSinceMs,
    };
    if (st.downSinceMs !== undefined) {
      const since = prev!.lastMs;
      const alert = this.alert(hb.origin, { ...st, lastMs: since }, this.o.okEvent, 'normal', `Heartbeat received again after ${Math.round((now - since) / 1000)} seconds`, now);
      if (this.write(alert)) {
        st.downSinceMs = undefined;
        this.m.cleared.inc();
        this.ctx.logger.warn(alert, `heartbeat: ${hb.origin} is back`);
      }
    }
    this.origins.set(hb.origin, st);
    this.m.delivered.inc();
  }

  /** Raises the alerts that fell due, then waits for the next deadline. */
  private check(): void {
    this.timer = undefined;
    this.armedDue = Number.POSITIVE_INFINITY;
    if (this.closed) return;
    const now = this.ctx.clock.now();
    let changed = false;
    let writeFailed = false;
    for (const [origin, st] of this.origins) {
      if (st.downSinceMs !== undefined || st.lastMs + st.timeoutS * 1000 > now) continue;
      const sev = typeof st.attributes.severity === 'string' ? st.attributes.severity : 'major';
      const alert = this.alert(origin, st, this.o.timeoutEvent, sev, `Heartbeat not received in ${st.timeoutS} seconds`, now);
      if (!this.write(alert)) {
        writeFailed = true;
        continue;
      }
      st.downSinceMs = now;
      changed = true;
      this.m.timeouts.inc();
      this.ctx.logger.warn(alert, `heartbeat: no heartbeat from ${origin} within ${st.timeoutS} s`);
    }
    if (changed) {
      this.save();
      this.updateGauges();
    }
    this.arm(writeFailed ? now + WRITE_RETRY_MS : undefined);
  }

  /** Arms the timer for the earliest deadline of an origin that is not already alerting. */
  private arm(extraDue?: number): void {
    if (this.closed) return;
    const now = this.ctx.clock.now();
    let due = extraDue ?? Number.POSITIVE_INFINITY;
    for (const st of this.origins.values()) {
      if (st.downSinceMs !== undefined) continue;
      const deadline = st.lastMs + st.timeoutS * 1000;
      // an overdue origin whose alert could not be written waits for the retry, not for 0 ms
      if (extraDue !== undefined && deadline <= now) continue;
      due = Math.min(due, deadline);
    }
    if (!Number.isFinite(due) || (this.timer && this.armedDue <= due)) return;
    this.timer?.cancel();
    this.armedDue = due;
    const wait = Math.min(MAX_WAIT_MS, Math.max(0, due - now));
    this.timer = this.ctx.clock.setTimeout(() => this.check(), wait);
  }

  /** An alert as Alerta's own heartbeat check builds it (`alerta heartbeats --alert`). */
  private alert(origin: string, st: OriginState, event: string, severity: string, text: string, now: number): Record<string, unknown> {
    const { environment, severity: _sev, service, group, ...rest } = st.attributes;
    return {
      resource: origin,
      event,
      environment: typeof environment === 'string' ? environment : 'Production',
      severity,
      correlate: [this.o.timeoutEvent, this.o.okEvent],
      service: Array.isArray(service) ? service : typeof service === 'string' ? [service] : ['Pipeline'],
      group: typeof group === 'string' ? group : 'System',
      value: String(Math.round((now - st.lastMs) / 1000)),
      text,
      tags: st.tags,
      attributes: rest,
      origin: this.alertOrigin,
      type: 'heartbeatAlert',
      timeout: st.timeoutS,
      createTime: new Date(now).toISOString(),
    };
  }

  private write(alert: Record<string, unknown>): boolean {
    try {
      appendFileSync(this.o.alertPath, JSON.stringify(alert) + '\n');
      return true;
    } catch (err) {
      this.m.failed.inc();
      this.ctx.logger.error({ path: this.o.alertPath, err: (err as Error).message, alert }, 'heartbeat: could not write the alert file; retrying');
      return false;
    }
  }

  private save(): void {
    this.spool.setState(STATE_KEY, JSON.stringify(Object.fromEntries(this.origins)));
  }

  private updateGauges(): void {
    let down = 0;
    for (const st of this.origins.values()) if (st.downSinceMs !== undefined) down++;
    this.m.down.set(down);
    this.m.origins.set(this.origins.size);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.save();
    this.spool.close();
  }
}
