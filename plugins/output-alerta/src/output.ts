import { AlertaPoster, type AlertaPosterOptions, type PluginContext, type Spool } from '@pipeline/core';
import { compileAlertBuilder, type AlertBuilderOptions } from './alert-body.js';
import { summariseEvicted } from './summary.js';

export type AlertaOutputOptions = AlertBuilderOptions & Omit<AlertaPosterOptions, 'kind' | 'path'>;

/**
 * The alerta output: every event becomes an alert, spooled on disk, then POSTed to
 * `{endpoint}/alert` in order; alerts evicted by the spool's caps become one summary alert.
 */
export class AlertaOutput extends AlertaPoster<Record<string, unknown>> {
  /** Opens the spool (waiting while its disk is full), then the output. */
  static async open(o: AlertaOutputOptions, ctx: PluginContext): Promise<AlertaOutput> {
    return new AlertaOutput(o, ctx, await AlertaPoster.openSpool({ ...o, kind: 'alerta' }, ctx));
  }

  constructor(o: AlertaOutputOptions, ctx: PluginContext, spool: Spool) {
    const origin = `pipeline/${ctx.pipelineId}/${ctx.id}`;
    super(
      { ...o, kind: 'alerta', path: '/alert' },
      compileAlertBuilder(o),
      ctx,
      {
        summarise: (evicted) => [summariseEvicted(evicted, origin)],
        describe: (body) => ({ resource: body.resource, event: body.event }),
      },
      spool,
    );
  }
}
