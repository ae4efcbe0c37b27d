import jsonCodec from '@pipeline/codec-json';
import { makeContext, type TestContext } from '@pipeline/core/testing';

/** A test context whose codec is the real json codec, the redis plugins' default. */
export function jsonContext(over: Parameters<typeof makeContext>[0] = {}): TestContext {
  return makeContext({ codecDef: jsonCodec, codecOptions: { charset: 'UTF-8' }, ...over });
}

/** Waits for a condition that real I/O will make true (never for a time window). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
