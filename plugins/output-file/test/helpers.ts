import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonLinesCodec from '@pipeline/codec-json_lines';
import lineCodec from '@pipeline/codec-line';
import { Event, Timestamp, type CodecFactory, type CodecInstance, type Fields, type OutputInstance } from '@pipeline/core';
import { createPlugin, makeContext, optionsFromConfig, type TestContext } from '@pipeline/core/testing';
import fileOutput from '../src/index.js';

/** A temp directory for one test, removed by `cleanup`. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'output-file-test-'));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A context whose codec is the real codec the config names (json_lines, the file output's
 * default, or `line` with its options), working directory `workingDir`.
 */
export function fileContext(workingDir: string, codec: 'json_lines' | { line: string } = 'json_lines', over: Parameters<typeof makeContext>[0] = {}): TestContext {
  const holder: { ctx?: TestContext } = {};
  const factory: CodecFactory =
    codec === 'json_lines'
      ? { name: 'json_lines', create: () => jsonLinesCodec.create(optionsFromConfig(jsonLinesCodec, '') as never, holder.ctx!) as CodecInstance }
      : { name: 'line', create: () => lineCodec.create(optionsFromConfig(lineCodec, codec.line) as never, holder.ctx!) as CodecInstance };
  holder.ctx = makeContext({ codec: factory, workingDir, ...over });
  return holder.ctx;
}

export async function fileOut(config: string, ctx: TestContext): Promise<OutputInstance> {
  return createPlugin(fileOutput, config, ctx);
}

export function ev(fields: Fields, iso = '2026-03-04T05:06:07.000Z'): Event {
  return new Event(fields, Timestamp.parse(iso));
}

export function lines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${file} ends with a partial line`);
  return text.slice(0, -1).split('\n');
}

/** Every regular file under `dir`, relative, sorted. */
export function filesUnder(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, base))) {
    const rel = base ? `${base}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...filesUnder(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

export function metric(ctx: TestContext, name: string): number {
  return (ctx.metrics.counter(name) as { value: number }).value;
}

export function gauge(ctx: TestContext, name: string): number {
  return ctx.metrics.gauge(name).value;
}

/** A real pino logger whose records are kept, for asserting what the output logged. */
export function capturingLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) records.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), records };
}

