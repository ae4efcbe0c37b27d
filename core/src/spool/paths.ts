import { join } from 'node:path';
import type { PluginContext } from '../plugin/define.js';

/** Where an output keeps its spool when the config names none: `<path.data>/spool/<kind>-<id>.sqlite`. */
export function spoolPath(ctx: Pick<PluginContext, 'dataDir' | 'id' | 'resolvePath'>, kind: string, configured?: string): string {
  if (configured) return ctx.resolvePath(configured);
  return join(ctx.dataDir, 'spool', `${kind}-${ctx.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.sqlite`);
}
