/**
 * The dns filter's resolver thread. The pipeline thread posts lookups here ([id, kind, key, ...]);
 * this thread runs at most `concurrency` of them at once on a node:dns Resolver, each attempt
 * bounded by `timeoutMs`, retried `retries` times after a timeout or a refused connection, and
 * posts the answers back in groups ([id, status, value, ...]). After each post it bumps a shared
 * counter and notifies it, so the pipeline thread can wait for answers synchronously when it must
 * (the final flush, when the pipeline stops) and otherwise never waits.
 */
import { Resolver } from 'node:dns/promises';
import { domainToUnicode } from 'node:url';
import { workerData, type MessagePort } from 'node:worker_threads';
import { arpaName, candidates } from './config.js';
import { FAIL, OK, REFUSED, RESOLVE, TIMEOUT } from './protocol.js';

interface Data {
  port: MessagePort;
  shared: Int32Array;
  servers: string[] | undefined;
  timeoutMs: number;
  retries: number;
  search: string[];
  ndots: number;
  concurrency: number;
}

const d = workerData as Data;
// c-ares picks its own timeout from the server's past latency (up to 5 s whatever `timeout` says, and
// Node 20 has no maxTimeout): each query is bounded here instead, c-ares resending once within it
const resolver = new Resolver({ timeout: d.timeoutMs, tries: 2 });

const TIMED_OUT = Object.assign(new Error('timed out'), { code: 'ETIMEOUT' });

/** A query bounded by `timeout` (an answer after it is dropped). */
function bounded<T>(p: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(TIMED_OUT), d.timeoutMs);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
if (d.servers !== undefined) resolver.setServers(d.servers);

const queue: (number | string)[] = [];
let qhead = 0;
let active = 0;
let out: (number | string)[] = [];
let posting = false;

d.port.on('message', (list: (number | string)[]) => {
  for (let i = 0; i < list.length; i++) queue.push(list[i]!);
  pump();
});

function pump(): void {
  while (active < d.concurrency && qhead < queue.length) {
    const id = queue[qhead] as number;
    const kind = queue[qhead + 1] as number;
    const key = queue[qhead + 2] as string;
    qhead += 3;
    active++;
    void lookup(kind, key).then(
      ([status, value]) => answer(id, status, value),
      () => answer(id, FAIL, ''),
    );
  }
  if (qhead === queue.length) {
    queue.length = 0;
    qhead = 0;
  } else if (qhead > 3000) {
    queue.splice(0, qhead);
    qhead = 0;
  }
}

function answer(id: number, status: number, value: string): void {
  active--;
  out.push(id, status, value);
  if (!posting) {
    posting = true;
    setImmediate(post);
  }
  pump();
}

function post(): void {
  posting = false;
  const list = out;
  out = [];
  d.port.postMessage(list);
  Atomics.add(d.shared, 0, 1);
  Atomics.notify(d.shared, 0);
}

/** One lookup with its retries: a timeout or a refused connection is tried again, as Logstash's retriable_request. */
async function lookup(kind: number, key: string): Promise<[number, string]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const v = kind === RESOLVE ? await forward(key) : await reverse(key);
      return v === undefined ? [FAIL, ''] : [OK, v];
    } catch (e) {
      const code = (e as { code?: string }).code;
      const retriable = code === 'ETIMEOUT' || code === 'ECONNREFUSED';
      if (retriable && attempt < d.retries) continue;
      if (code === 'ETIMEOUT') return [TIMEOUT, ''];
      if (code === 'ECONNREFUSED') return [REFUSED, String((e as Error).message)];
      return [FAIL, ''];
    }
  }
}

const NX = 'ENOTFOUND';
const NODATA = 'ENODATA';

/**
 * A name's first address: A records across the candidate names first (search domains applied as
 * Ruby's Resolv does), then AAAA. NXDOMAIN tries the next candidate; an empty answer ends that type;
 * a timeout ends the attempt; any other error (SERVFAIL, REFUSED) fails the name.
 */
async function forward(name: string): Promise<string | undefined> {
  const names = candidates(name, d.search, d.ndots);
  let existing = false;
  for (const six of [false, true]) {
    if (six && !existing) return undefined; // every candidate was NXDOMAIN: no AAAA either
    for (const n of names) {
      try {
        const r = await bounded(six ? resolver.resolve6(n) : resolver.resolve4(n));
        if (r.length > 0) return r[0];
        existing = true;
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === NX) continue;
        if (code === NODATA) {
          existing = true;
          break;
        }
        throw e;
      }
    }
  }
  return undefined;
}

async function reverse(address: string): Promise<string | undefined> {
  try {
    // resolvePtr, not reverse(): getHostByAddr reports a timeout as ENOTFOUND and reads /etc/hosts itself
    const names = await bounded(resolver.resolvePtr(arpaName(address)));
    return names.length > 0 ? domainToUnicode(names[0]!) || names[0] : undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === NX || code === NODATA) return undefined;
    throw e;
  }
}
