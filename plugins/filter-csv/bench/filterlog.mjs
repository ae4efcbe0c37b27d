// csv on 10k pfSense filterlog lines (the example config's two csv passes: generated names, then the
// named columns for the line's version and protocol), beside one grok doing the same split with a
// [^,]* group per column. In-process, filters only: node plugins/filter-csv/bench/filterlog.mjs
import { Event } from '@pipeline/core';
import { createPlugin } from '@pipeline/core/testing';
import csv from '@pipeline/filter-csv';
import grok from '@pipeline/filter-grok';

const V4UDP = ['rule', 'sub_rule', 'anchor', 'tracker', 'interface', 'reason', 'action', 'direction', 'ip_version', 'tos', 'ecn', 'ttl', 'id', 'offset', 'flags', 'protocol_id', 'protocol', 'length', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'data_length'];
const V4TCP = [...V4UDP, 'tcp_flags', 'sequence', 'ack', 'window', 'urg', 'options'];
const LINES = [
  '5,,,1000000103,igb0,match,block,in,4,0x0,,64,12345,0,DF,6,tcp,60,203.0.113.5,192.168.1.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale',
  '4,,,1000000103,igb0,match,block,in,4,0x0,,57,23456,0,none,17,udp,76,198.51.100.7,192.168.1.10,123,123,56',
];
const N = 10_000;
const q = (a) => `[${a.map((c) => JSON.stringify(c)).join(', ')}]`;
const generic = await createPlugin(csv, 'target => "[@metadata][f]"');
const tcp = await createPlugin(csv, `target => "pf" columns => ${q(V4TCP)} convert => { "src_port" => "integer" "dst_port" => "integer" }`);
const udp = await createPlugin(csv, `target => "pf" columns => ${q(V4UDP)} convert => { "src_port" => "integer" "dst_port" => "integer" }`);
const groups = (cols) => '^' + cols.map((c) => `(?<${c}>[^,]*)`).join(',') + '$';
const grokF = await createPlugin(grok, `match => { "message" => [${JSON.stringify(groups(V4TCP))}, ${JSON.stringify(groups(V4UDP))}] } target => "pf"`);

function bench(name, fn) {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const events = Array.from({ length: N }, (_, i) => new Event({ message: LINES[i % 2] }));
    const t0 = process.hrtime.bigint();
    for (const e of events) fn(e);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${name}: ${N} lines in ${best.toFixed(1)} ms (best of 7) = ${Math.round(N / (best / 1000)).toLocaleString('en')} lines/s`);
}
const noop = () => {};
bench('csv, one pass (named columns)', (e) => (e.get('message').includes(',tcp,') ? tcp : udp).filter(e, noop));
bench('csv, example config (generated pass + named pass)', (e) => {
  generic.filter(e, noop);
  (e.get('[@metadata][f][column16]') === '6' ? tcp : udp).filter(e, noop);
});
bench('grok, one [^,]* group per column (peer)', (e) => grokF.filter(e, noop));
