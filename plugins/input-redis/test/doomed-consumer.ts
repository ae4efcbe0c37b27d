/**
 * A consumer that reads stream entries and never delivers them, run as a child process so a test
 * can kill it with SIGKILL before it acknowledges anything: what a crashed indexer leaves behind.
 *   node doomed-consumer.js PORT KEY CONSUMER
 * Prints the number of events it holds after each push.
 */
import { createPlugin } from '@pipeline/core/testing';
import input from '../src/index.js';
import { jsonContext, TrackingSink } from './helpers.js';

const [port, key, consumer] = process.argv.slice(2);
// `node --test dist/test/` loads every file under test/: without arguments this is not a run
if (consumer === undefined) process.exit(0);
const sink = new TrackingSink();
const origPush = sink.push.bind(sink);
sink.push = (e, cb) => {
  origPush(e, cb);
  process.stdout.write(`${sink.events.length}\n`);
};
const ctx = jsonContext();
const i = await createPlugin(input, `host => "127.0.0.1" port => ${port} data_type => "stream" key => "${key}" consumer => "${consumer}" batch_count => 50 claim_min_idle_ms => 3600000`, ctx);
await i.run(sink);
