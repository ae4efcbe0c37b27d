import { rmSync } from 'node:fs';
import { after } from 'node:test';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import http from '../src/index.js';
import type { HttpOutput } from '../src/output.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function ctxFor(dataDir?: string): TestContext {
  const ctx = makeContext(dataDir ? { dataDir } : {});
  dirs.push(ctx.dataDir);
  return ctx;
}

export async function make(body: string, ctx = ctxFor()): Promise<HttpOutput> {
  return (await createPlugin(http, body, ctx)) as HttpOutput;
}

/** Advances the virtual clock in steps, letting each retry's real request finish. */
export async function advance(ctx: TestContext, out: HttpOutput, ms: number, step = 1_000): Promise<void> {
  await out.whenIdle();
  for (let t = 0; t < ms; t += step) {
    ctx.clock.advance(Math.min(step, ms - t));
    await out.whenIdle();
  }
}

/** Sends a batch and waits until nothing is in flight. */
export async function deliver(out: HttpOutput, events: Event[]): Promise<void> {
  await out.receive(events);
  await out.whenIdle();
}

export const T0 = Date.UTC(2026, 11, 4, 10, 0, 0, 123);
export const ev = (fields: Record<string, unknown>) => new Event({ ...fields, '@timestamp': new Timestamp(T0) });
export const metric = (ctx: TestContext, name: string) => ctx.metrics.counter(name).value;
