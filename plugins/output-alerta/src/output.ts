import { AlertaPoster, type AlertaPosterOptions, type PluginContext } from '@pipeline/core';
import { compileAlertBuilder, type AlertBuilderOptions } from './alert-body.js';
import { summariseEvicted } from './summary.js';

export type AlertaOutputOptions = AlertBuilderOptions & Omit<AlertaPosterOptions, 'kind' | 'path'>;

/**
 * The alerta output: every event becomes an alert, spooled on disk, then POSTed to
 * `{endpoint}/alert` in order; alerts evicted by the spool's caps become one summary alert.
 */
export class AlertaOutput extends AlertaPoster<Record<string, unknown>> {
  constructor(o: AlertaOutputOptions, ctx: PluginContext) {
    const origin = `pipeline/${ctx.pipelineId}/${ctx.id}`;
    super({ ...o, kind: 'alerta', path: '/alert' }, compileAlertBuilder(o), ctx, {
      summarise: (evicted) => [summariseEvicted(evicted, origin)],
      describe: (body) => ({ resource: body.resource, event: body.event }),
    });
  }
}
