/**
 * SEC's contexts: named, with a lifetime (0 = infinite), an event store, an action list run when
 * the lifetime ends (with the context as _THIS), and aliases (several names, one context). The
 * internal context stands under SEC_INTERNAL_EVENT / _FILE_EVENT_x / _INTERNAL_EVENT while an
 * event is matched; actions leave it alone.
 */
import type { Action } from './actions.js';

export interface Ctx {
  /** Creation time (or that of the last create/set/setltime that restarted it). */
  time: number;
  /** Lifetime in seconds; 0 never expires, -1 (obsolete) has expired. */
  window: number;
  buffer: string[];
  /** Run when the lifetime ends, `desc` as %s. */
  action: Action[];
  desc: string;
  /** Every name the context has, the first one included. */
  aliases: Set<string>;
  internal?: boolean;
  deleteInProgress?: boolean;
}

export type StoreOp = 'add' | 'prepend' | 'fill';

export class Contexts {
  private readonly byName = new Map<string, Ctx>();
  /** The context of internal events and of --intcontexts. */
  private readonly internal: Ctx;

  /** `run` executes an expiry action list (the engine's action interpreter). */
  constructor(
    private readonly now: () => number,
    private readonly run: (list: Action[], desc: string) => void,
    /** Told of each context whose lifetime ended, before its action list runs (the rule trace). */
    private readonly onStale?: (name: string) => void,
  ) {
    this.internal = { time: 0, window: 0, buffer: [], action: [], desc: 'SEC internal', internal: true, aliases: new Set() };
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Ctx | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  entries(): IterableIterator<[string, Ctx]> {
    return this.byName.entries();
  }

  /** A soft restart: the contexts of `old` (all but its internal one) are these now. */
  adopt(old: Contexts): void {
    for (const [name, c] of old.byName) if (!c.internal) this.byName.set(name, c);
    old.byName.clear();
  }

  /** SEC's start: the internal context's creation time. */
  startInternal(time: number): void {
    this.internal.time = time;
  }

  /** Puts the internal context under `name` while an event is matched. */
  enterInternal(name: string): void {
    this.internal.aliases.add(name);
    this.byName.set(name, this.internal);
  }

  leaveInternal(name: string): void {
    this.byName.delete(name);
    this.internal.aliases.delete(name);
  }

  /**
   * SEC's valid_context: true while `name` exists and its lifetime has not ended; an ended one
   * runs its action list (once: a list that asks about it again sees it gone) and loses all names.
   */
  valid(name: string): boolean {
    const c = this.byName.get(name);
    if (!c) return false;
    if (!c.window) return true;
    if (this.now() - c.time <= c.window) return true;
    if (c.deleteInProgress) return false;
    this.onStale?.(name);
    if (c.action.length) {
      c.deleteInProgress = true;
      const prev = this.byName.get('_THIS');
      this.byName.set('_THIS', c);
      this.run(c.action, c.desc);
      if (prev) this.byName.set('_THIS', prev);
      else this.byName.delete('_THIS');
    }
    const cur = this.byName.get(name);
    if (cur) this.unlink(cur);
    return false;
  }

  /** The timer pass: every context whose lifetime ended expires. */
  expireAll(): void {
    for (const k of [...this.byName.keys()]) this.valid(k);
  }

  /** create: a new context, or the existing one restarted with an empty store. */
  create(name: string, window: number, action: Action[], desc: string): void {
    const c = this.byName.get(name);
    if (c) {
      if (c.internal) return;
      c.time = this.now();
      c.window = window;
      c.action = action;
      c.desc = desc;
      c.buffer = [];
    } else {
      const nc = this.fresh(name, window);
      nc.action = action;
      nc.desc = desc;
      this.byName.set(name, nc);
    }
  }

  /** delete: the context and all its names go, without its action list. */
  delete(name: string): void {
    const c = this.byName.get(name);
    if (c && !c.deleteInProgress && !c.internal) this.unlink(c);
  }

  /** obsolete: the lifetime ends now, the action list runs. */
  obsolete(name: string): void {
    const c = this.byName.get(name);
    if (c && !c.deleteInProgress && !c.internal) {
      c.window = -1;
      this.valid(name);
    }
  }

  /** set: a new lifetime from now (unless `window` is undefined, sec's `-`), a new action list when one is given. */
  set(name: string, window: number | undefined, action: Action[], desc: string): void {
    const c = this.byName.get(name);
    if (!c || c.internal) return;
    if (window !== undefined) {
      c.time = this.now();
      c.window = window;
    }
    if (action.length) {
      c.action = action;
      c.desc = desc;
    }
  }

  alias(name: string, alias: string): void {
    const c = this.byName.get(name);
    if (c && !this.byName.has(alias) && !c.internal) {
      c.aliases.add(alias);
      this.byName.set(alias, c);
    }
  }

  unalias(alias: string): void {
    const c = this.byName.get(alias);
    if (c && !c.deleteInProgress && !c.internal) {
      c.aliases.delete(alias);
      this.byName.delete(alias);
    }
  }

  /** add/prepend/fill: lines into the store (a missing context is created with an infinite lifetime). */
  store(op: StoreOp, name: string, lines: string[]): void {
    let c = this.byName.get(name);
    if (!c) this.byName.set(name, (c = this.fresh(name, 0)));
    if (c.internal) return;
    if (op === 'add') c.buffer.push(...lines);
    else if (op === 'prepend') c.buffer.unshift(...lines);
    else c.buffer = lines;
  }

  /** report: the store as text, one line each, or undefined when there is nothing to report. */
  report(name: string): string | undefined {
    const c = this.byName.get(name);
    if (!c || !c.buffer.length) return undefined;
    return c.buffer.map((l) => l + '\n').join('');
  }

  /** copy/empty: the store joined by newlines (undefined without the context); `empty` empties it. */
  copy(name: string, empty: boolean): string | undefined {
    const c = this.byName.get(name);
    if (!c) return undefined;
    const text = c.buffer.join('\n');
    if (empty) c.buffer = [];
    return text;
  }

  /** pop/shift: the last or first line taken from the store ('' when it is empty, undefined without the context). */
  take(name: string, last: boolean): string | undefined {
    const c = this.byName.get(name);
    if (!c) return undefined;
    return (last ? c.buffer.pop() : c.buffer.shift()) ?? '';
  }

  /** setltime: a new lifetime, counted from the creation time (so the context may expire at once). */
  setLifetime(name: string, window: number): void {
    const c = this.byName.get(name);
    if (!c || c.internal) return;
    c.window = window;
    if (c.window && this.now() - c.time > c.window) this.valid(name);
  }

  /** setctime: a later creation time, not in the future. */
  setCreated(name: string, ts: number): void {
    const c = this.byName.get(name);
    if (!c || c.internal) return;
    if (ts > c.time && ts <= this.now()) c.time = ts;
  }

  private fresh(name: string, window: number): Ctx {
    return { time: this.now(), window, buffer: [], action: [], desc: '', aliases: new Set([name]) };
  }

  private unlink(c: Ctx): void {
    for (const alias of [...c.aliases]) this.byName.delete(alias);
  }
}
