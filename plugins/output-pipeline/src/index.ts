import { definePlugin, opt, type Event } from '@pipeline/core';

/**
 * Sends each event to the `pipeline` inputs listening on the `send_to` addresses, in this process,
 * as Logstash's pipeline output. Each address gets its own copy of the event (`Event.clone`: every
 * field, `@metadata` and tags included, as Logstash's bus clones events), so pipelines never share
 * an event.
 *
 * `receive` resolves once every address has taken the batch into its pipeline's queue: a full
 * downstream queue holds this output (and so this pipeline) whatever `ensure_delivery` says, as in
 * Logstash. An address nobody listens on: with `ensure_delivery => true` (the default) the output
 * waits until an input listens there (logged once per wait), e.g. after that pipeline is fixed and
 * reloaded; with `false` the events for it are dropped, counted (`dropped`) and logged at most every
 * 10 s. At shutdown an address nobody listens on gets nothing more: the output logs how many events
 * it could not deliver.
 */
export default definePlugin({
  kind: 'output',
  name: 'pipeline',
  description: 'Sends events to pipeline inputs of other pipelines in this process.',
  options: {
    send_to: opt.strings({ required: true, description: 'The virtual addresses to send each event to (each gets its own copy).' }),
    ensure_delivery: opt.bool({ default: true, description: 'Wait for an address nobody listens on (true), or drop its events with a warning (false).' }),
  },
  create(options, ctx) {
    const addresses = [...new Set(options.send_to)];
    if (addresses.length === 0) throw new Error('send_to names no address');
    const sender = ctx.pipelineBus.sender(addresses);
    const sent = ctx.metrics.counter('sent');
    const dropped = ctx.metrics.counter('dropped');
    let lastDropLog = -Infinity;
    let droppedSinceLog = 0;
    const drop = (address: string, n: number, why: string) => {
      dropped.inc(n);
      droppedSinceLog += n;
      const now = ctx.clock.now();
      if (now - lastDropLog < 10_000) return;
      lastDropLog = now;
      ctx.logger.warn({ address, events: droppedSinceLog }, `pipeline address "${address}" ${why}: events dropped`);
      droppedSinceLog = 0;
    };
    const copies = (events: readonly Event[]): Event[] => {
      const out = new Array<Event>(events.length);
      for (let i = 0; i < events.length; i++) out[i] = events[i]!.clone();
      return out;
    };
    const sendTo = async (address: string, events: readonly Event[]) => {
      for (let logged = false; ; ) {
        const to = sender.listener(address);
        if (to !== undefined) {
          if (logged) ctx.logger.info({ address }, `pipeline address "${address}" has a listener: sending`);
          await to.receive(copies(events));
          sent.inc(events.length);
          return;
        }
        if (!options.ensure_delivery) return drop(address, events.length, 'has no listener (ensure_delivery => false)');
        if (!logged) ctx.logger.warn({ address, events: events.length }, `pipeline address "${address}" has no listener: waiting for one (ensure_delivery)`);
        logged = true;
        if (!(await sender.whenListening(address))) {
          dropped.inc(events.length);
          ctx.logger.error({ address, events: events.length }, `stopping: pipeline address "${address}" has no listener; these events were not delivered`);
          return;
        }
      }
    };
    return {
      async receive(events) {
        if (addresses.length === 1) return sendTo(addresses[0]!, events);
        await Promise.all(addresses.map((a) => sendTo(a, events)));
      },
      close() {
        sender.close();
      },
    };
  },
});
