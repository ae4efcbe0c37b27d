// Design measurement for issue 20 item 3 (both cores): what handing batches of raw lines to worker
// threads costs against doing the per-event work on the pipeline thread. The work is a syslog-header
// regex, building the event's fields and its JSON text (the homelab job's filter + encode, simplified).
// Two hand-backs are compared: the JSON text plus the two fields the pipeline thread routes on
// (`--back few`, default), and the JSON text plus the whole field object (`--back fields`).
//   node scripts/bench/core/handover.mjs [--back few|fields] [--events N] [--batch B]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const RE = /^<(\d+)>(\w{3} +\d+ \d\d:\d\d:\d\d) (\S+) ([^[:]+)(?:\[(\d+)\])?: (.*)$/;
function work(line, back) {
  const m = RE.exec(line);
  const f = { message: line, '@version': '1', '@timestamp': new Date().toISOString(), host: '127.0.0.1', type: 'syslog', tags: ['syslog'] };
  if (m) Object.assign(f, { syslog_timestamp: m[2], syslog_hostname: m[3], syslog_program: m[4], syslog_pid: m[5], syslog_message: m[6] });
  return back === 'fields' ? [JSON.stringify(f), f] : [JSON.stringify(f), f.syslog_program ?? '', f.syslog_hostname ?? ''];
}

if (!isMainThread) {
  parentPort.on('message', (batch) => parentPort.postMessage(batch.map((l) => work(l, workerData.back))));
} else {
  const { values } = parseArgs({ options: { back: { type: 'string', default: 'few' }, events: { type: 'string', default: '300000' }, batch: { type: 'string', default: '125' } } });
  const N = Number(values.events), B = Number(values.batch), back = values.back;
  // lines shaped like the bench corpus (../shared/bench/corpus/gen.mjs): sshd, snort, sudo, nginx
  const sample = [
    '<38>Mar  1 00:00:00 web1 sshd[18205]: Invalid user ubnt from 198.51.100.113 port 52544',
    '<33>Mar  1 00:00:00 gw snort[2729]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 203.0.113.168:31145 -> 10.0.0.1:22',
    '<85>Mar  1 00:00:01 db1 sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob',
    '<190>Mar  1 00:00:01 web2 nginx: 192.0.2.10 - - [01/Mar/2026:00:00:01 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.0"',
  ];
  const all = Array.from({ length: N }, (_, i) => sample[i % sample.length]);
  const inline = () => {
    const t0 = performance.now();
    for (const l of all) work(l, back);
    return N / ((performance.now() - t0) / 1000);
  };
  const threaded = async (k) => {
    const ws = Array.from({ length: k }, () => new Worker(new URL(import.meta.url), { workerData: { back } }));
    const t0 = performance.now();
    let next = 0, done = 0;
    await new Promise((resolve) => {
      const send = (w) => {
        if (next >= N) return;
        w.postMessage(all.slice(next, next + B));
        next += B;
      };
      for (const w of ws) {
        w.on('message', (out) => {
          done += out.length;
          if (done >= N) resolve();
          else send(w);
        });
        for (let j = 0; j < 4; j++) send(w); // a few batches in flight per worker
      }
    });
    const rate = N / ((performance.now() - t0) / 1000);
    for (const w of ws) await w.terminate();
    return rate;
  };
  console.log(`hand-back: ${back}, ${N} events in batches of ${B}`);
  for (let rep = 0; rep < 3; rep++) {
    const a = inline();
    const t1 = await threaded(1);
    const t2 = await threaded(2);
    console.log(`pipeline thread alone ${a.toFixed(0)}/s | 1 worker ${t1.toFixed(0)}/s (${(t1 / a).toFixed(2)}x) | 2 workers ${t2.toFixed(0)}/s (${(t2 / a).toFixed(2)}x)`);
  }
}
