import type { Decoder, Event, Logger } from '@pipeline/core';

/**
 * Decodes one Redis message (list item, channel message, stream entry) as a whole
 * (`decodeMessage`), so a line codec never carries half a message over to the next one and every event is
 * known to come from the message being decoded.
 */
export function decodeMessage(decoder: Decoder, payload: string | Buffer, emit: (e: Event) => void, logger: Logger): void {
  try {
    decoder.decodeMessage(payload, emit);
  } catch (err) {
    logger.error({ err }, 'could not decode a message from redis; skipped');
  }
}
