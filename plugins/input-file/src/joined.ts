import type { CodecFactory, CodecInstance, Event, InputSink } from '@pipeline/core';

/**
 * The file input with a codec that joins lines into events (multiline, see `Decoder.heldLines`):
 * one codec instance per file, fed that file's lines, flushed when the file ends or the input stops.
 * A line is acknowledged (its offset may reach the sincedb) only once the event holding it is
 * delivered, so lines a codec still holds at a crash are read again at the next start.
 */
const LF = Buffer.from('\n');

interface Stream {
  readonly decoder: CodecInstance;
  readonly emit: (e: Event) => void;
  path: string;
  sink: InputSink | undefined;
  /** Per line handed in and not yet in an emitted event: its delivery callback, and whether it was cut. */
  readonly acks: ((() => void) | undefined)[];
  readonly cut: boolean[];
  head: number;
}

export class JoinedStreams {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly codec: CodecFactory,
    /** Sets path and host, tags a cut line's event, counts it, and pushes it. */
    private readonly deliver: (e: Event, path: string, cut: boolean, sink: InputSink, onDelivered: (() => void) | undefined) => void,
  ) {}

  line(key: string, bytes: Buffer, path: string, truncated: boolean, sink: InputSink, onDelivered: (() => void) | undefined): void {
    let s = this.streams.get(key);
    if (s === undefined) this.streams.set(key, (s = this.open()));
    s.path = path;
    s.sink = sink;
    s.acks.push(onDelivered);
    s.cut.push(truncated);
    if (s.decoder.decodeLine) s.decoder.decodeLine(bytes, s.emit);
    else {
      // the bytes may be a view of the reader's buffer: decoded now, before it is reused
      s.decoder.decode(bytes, s.emit);
      s.decoder.decode(LF, s.emit);
    }
  }

  /** The file's stream ended: what its codec holds is emitted; a later line starts a new stream. */
  end(key: string): void {
    const s = this.streams.get(key);
    if (s === undefined) return;
    this.streams.delete(key);
    s.decoder.flush(s.emit);
  }

  endAll(): void {
    for (const key of [...this.streams.keys()]) this.end(key);
  }

  private open(): Stream {
    const decoder = this.codec.create();
    const s: Stream = {
      decoder,
      path: '',
      sink: undefined,
      acks: [],
      cut: [],
      head: 0,
      emit: (e) => {
        // the event holds every line handed in before, except those the codec still holds
        const n = Math.max(0, s.acks.length - s.head - (decoder.heldLines ?? 0));
        const from = s.head;
        s.head += n;
        let cut = false;
        let onDelivered: (() => void) | undefined;
        if (n === 1) {
          onDelivered = s.acks[from];
          cut = s.cut[from]!;
        } else if (n > 1) {
          const list = s.acks.slice(from, from + n);
          for (let i = from; i < from + n; i++) cut ||= s.cut[i]!;
          if (list.some((f) => f !== undefined)) onDelivered = () => list.forEach((f) => f?.());
        }
        if (s.head === s.acks.length) {
          s.acks.length = s.cut.length = s.head = 0;
        } else if (s.head > 1024) {
          s.acks.splice(0, s.head);
          s.cut.splice(0, s.head);
          s.head = 0;
        }
        if (s.sink !== undefined) this.deliver(e, s.path, cut, s.sink, onDelivered);
      },
    };
    return s;
  }
}
