import { definePlugin, opt, type Event, type InputSink } from '@pipeline/core';

/**
 * Receives the events `pipeline` outputs of other pipelines of this process send to `address`, as
 * Logstash's pipeline input. The address lives on the process's pipeline bus (core
 * runtime/pipeline-bus.ts, `ctx.pipelineBus`); one input per address (a second one is a config
 * error at `-t` and at start).
 *
 * Back-pressure: a sender's batch is taken into this pipeline's queue event by event, waiting while
 * the queue is full, and the sender's `receive` resolves only once the queue holds them all (the
 * persisted queue: committed). So a slow downstream pipeline holds the upstream output, whose queue
 * fills, whose inputs stop reading: nothing is dropped and memory stays bounded.
 *
 * The events are the sender's copies (the output clones each one per address, `@metadata`
 * included, as Logstash's bus does), so nothing done here changes the upstream event.
 */
export default definePlugin({
  kind: 'input',
  name: 'pipeline',
  description: 'Receives events from pipeline outputs of other pipelines in this process.',
  options: {
    address: opt.string({ required: true, description: 'The virtual address this input listens on; pipeline outputs name it in send_to.' }),
  },
  create(options, ctx) {
    const address = options.address;
    const received = ctx.metrics.counter('received');
    let stopped = false;
    let finish: (() => void) | undefined;
    let listener: { close(): Promise<void> } | undefined;
    return {
      async run(sink: InputSink) {
        const take = async (events: Event[]) => {
          for (let i = 0; i < events.length; i++) {
            if (!sink.writable) await sink.whenWritable();
            sink.push(events[i]!);
          }
          received.inc(events.length);
          if (sink.whenStored) await sink.whenStored();
        };
        listener = ctx.pipelineBus.listen(address, ctx.pipelineId, { receive: take });
        ctx.logger.info({ address }, `listening on pipeline address "${address}"`);
        if (stopped) return void (await listener.close());
        await new Promise<void>((resolve) => (finish = resolve));
      },
      async stop() {
        stopped = true;
        // at shutdown the bus holds this until no output sends to the address any more
        if (listener) await listener.close();
        finish?.();
      },
    };
  },
});
