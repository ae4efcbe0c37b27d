/**
 * The benchmark's client (a child process of bench.ts): `concurrency` keep-alive sockets posting
 * one body again and again for `seconds`; prints {"requests":N,"non200":M,"ms":T} when done.
 */
import http from 'node:http';

const [port, mode, seconds, concurrency] = process.argv.slice(2);
const perRequest = mode === 'array' ? 100 : 1;
const event = (i: number) => ({ message: `GET /index.html 200 ${i} bytes from 192.0.2.${i % 255}`, n: i });
const body = Buffer.from(JSON.stringify(perRequest === 1 ? event(1) : Array.from({ length: perRequest }, (_, i) => event(i))));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const headers = { 'Content-Type': 'application/json', 'Content-Length': body.length };
let requests = 0;
let non200 = 0;
const t0 = Date.now();
const end = t0 + Number(seconds) * 1000;

function one(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/', agent, headers }, (res) => {
      if (res.statusCode !== 200) non200++;
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function loop(): Promise<void> {
  while (Date.now() < end) {
    await one();
    requests++;
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, () => loop()));
agent.destroy();
process.stdout.write(JSON.stringify({ requests, non200, ms: Date.now() - t0, perRequest }) + '\n');
