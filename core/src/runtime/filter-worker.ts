/**
 * The body of one filter worker thread (see filter-workers.ts). It parses its own copy of the
 * config, creates its own instances of the filter section's plugins, and then runs batches: in
 * comes each event's JSON text and `@metadata` text, out go the same for every event leaving the
 * section, in order, with what its metrics counted meanwhile.
 */
import { isAbsolute } from 'node:path';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { parseSources } from '../config/load.js';
import { Event } from '../event/event.js';
import { SystemClock } from '../plugin/clock.js';
import type { FilterInstance, PluginContext } from '../plugin/define.js';
import { MetricsRegistry } from '../plugin/metrics.js';
import { resolveConfigPath } from '../registry/install-root.js';
import { compileChain, type Next } from './chain.js';
import { createLogger } from './logger.js';
import { registryFor } from './load.js';
import { buildPlan, type PluginPlan } from './plan.js';
import { createPipelineBus } from './pipeline-bus.js';
import { noCodecs } from './plugin-context.js';
import { hintsOf, type FromWorker, type ToWorker, type WorkerSetup } from './filter-workers.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
// lines go to the pipeline thread, which writes them where its own go (stderr, the -l file)
const logger = createLogger(setup.logLevel, setup.logFormat, undefined, { write: (line) => port.postMessage({ type: 'log', line } satisfies FromWorker) }).child({ thread: threadId });
const metrics = new MetricsRegistry();
const clock = new SystemClock();
const abort = new AbortController();
const instances: FilterInstance[] = [];
const preparers: FilterInstance[] = [];
let out: string[] = [];

const post = (m: FromWorker) => port.postMessage(m);

async function build(): Promise<Next> {
  const { ast } = parseSources(setup.sources, { supportEscapes: setup.settings['config.support_escapes'] === true });
  const resolvePath = (p: string) => (isAbsolute(p) ? p : resolveConfigPath(p, setup.workingDir));
  const filterAst = { sections: ast.sections.filter((s) => s.kind === 'filter') };
  const plan = await buildPlan(filterAst, registryFor(setup.settings, setup.workingDir), () => {}, resolvePath);
  const bus = createPipelineBus();
  const context = (p: PluginPlan): PluginContext => ({
    logger: logger.child({ plugin: p.id }),
    clock,
    metrics: metrics.scope('plugins').scope(p.kind + 's').scope(p.id),
    dataDir: setup.dataDir,
    workingDir: setup.workingDir,
    resolvePath,
    signal: abort.signal,
    pipelineId: setup.pipelineId,
    id: p.id,
    ...noCodecs(p.id),
    settings: setup.settings,
    // filters in a worker thread send to no pipeline: a bus of the thread's own
    pipelineBus: bus,
  });
  const keys = setup.hintKeys;
  const prefixes = keys.map((k) => JSON.stringify(k) + ':');
  const collect: Next = (e) => {
    out.push(e.json(), e.metadataJson() ?? '', hintsOf(e.fields, keys, prefixes));
  };
  return compileChain(
    filterAst.sections.flatMap((s) => s.body),
    collect,
    plan,
    {
      take: async (p) => {
        const inst = (await p.def.create(p.options as never, context(p))) as FilterInstance;
        instances.push(inst);
        if (typeof inst.prepare === 'function') preparers.push(inst);
        return inst;
      },
      metrics: (p) => context(p).metrics,
      added: () => {},
    },
  );
}

async function close(): Promise<void> {
  abort.abort();
  for (const inst of instances) await Promise.resolve(inst.close?.()).catch((err: unknown) => logger.error({ err }, 'filter failed to close'));
}

function run(process: Next, seq: number, lines: string): void {
  const parts = lines.split('\n');
  const batch: Event[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) batch.push(Event.fromWire(parts[i]!, parts[i + 1] === '' ? undefined : parts[i + 1]));
  out = [];
  try {
    for (let i = 0; i < preparers.length; i++) preparers[i]!.prepare!(batch);
    for (let i = 0; i < batch.length; i++) process(batch[i]!);
  } catch (err) {
    post({ type: 'failed', seq, message: (err as Error)?.stack ?? String(err) });
    return;
  }
  post({ type: 'done', seq, lines: out.join('\n'), metrics: metrics.drainDeltas() });
}

build().then(
  (process) => {
    port.on('message', (m: ToWorker) => {
      if (m.type === 'batch') run(process, m.seq, m.lines);
      else void close().then(() => port.close());
    });
    post({ type: 'ready' });
  },
  (err: unknown) => post({ type: 'failed', seq: -1, message: (err as Error)?.message ?? String(err) }),
);
