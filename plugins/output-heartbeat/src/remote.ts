import { AlertaPoster, type AlertaPosterOptions, type Event, type PluginContext, type Spool } from '@pipeline/core';
import type { BuildResult, HeartbeatBody } from './heartbeat-body.js';
import { newestPerOrigin } from './summary.js';

export type RemoteOptions = Omit<AlertaPosterOptions, 'kind' | 'path'>;

/**
 * Alerta mode: every heartbeat is written to the durable spool first, then POSTed to
 * `{endpoint}/heartbeat` in order; heartbeats evicted by the spool's caps collapse to the newest
 * one per origin.
 */
export class RemoteHeartbeatOutput extends AlertaPoster<HeartbeatBody> {
  /** Opens the spool (waiting while its disk is full), then the output. */
  static async open(o: RemoteOptions, build: (ev: Event) => BuildResult, ctx: PluginContext): Promise<RemoteHeartbeatOutput> {
    return new RemoteHeartbeatOutput(o, build, ctx, await AlertaPoster.openSpool({ ...o, kind: 'heartbeat' }, ctx));
  }

  constructor(o: RemoteOptions, build: (ev: Event) => BuildResult, ctx: PluginContext, spool: Spool) {
    super(
      { ...o, kind: 'heartbeat', path: '/heartbeat' },
      build,
      ctx,
      {
        summarise: newestPerOrigin,
        describe: (body) => ({ origin: body.origin }),
      },
      spool,
    );
  }
}
