import { Event } from './event.js';
import type { Timestamp } from './timestamp.js';

/**
 * Events from one JSON text, as Logstash's json codecs make them: an object is one event (its
 * `@timestamp`, when an ISO-8601 string, becomes the event's timestamp), an array gives one event
 * per element, anything else or a parse error gives a `_jsonparsefailure` event carrying the text.
 */
export function eventFromJson(text: string, now: () => Timestamp): Event[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [failure(text, now)];
  }
  if (Array.isArray(parsed)) return parsed.map((item) => (isObject(item) ? new Event(item, now()) : failure(JSON.stringify(item), now)));
  if (isObject(parsed)) return [new Event(parsed, now())];
  return [failure(text, now)];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function failure(text: string, now: () => Timestamp): Event {
  return new Event({ message: text, tags: ['_jsonparsefailure'] }, now());
}
