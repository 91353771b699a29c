#!/usr/bin/env node
// The two ends of the soak benchmark, each run inside a pod's netns (ip netns exec):
//   soak-peer.mjs server <port>                       echoes every connection, holds them open
//   soak-peer.mjs client <host> <port> <n> <seconds> <ping-seconds> <per-second>
// The client opens n connections (<per-second> a second), holds them `seconds`, each writing a line every
// `ping-seconds` (staggered) and expecting its echo, then closes them. It prints one JSON line
// every second: { open, opened, failed, lost, pings, echoes, late }, and a final one with done.
import net from 'node:net';

const [role, ...args] = process.argv.slice(2);

if (role === 'server') {
  const stats = { accepted: 0, open: 0, ends: 0, errors: {} };
  const server = net.createServer({ allowHalfOpen: false }, (s) => {
    stats.accepted++;
    stats.open++;
    s.on('end', () => stats.ends++);
    s.on('error', (err) => (stats.errors[err.code] = (stats.errors[err.code] ?? 0) + 1));
    s.on('close', () => stats.open--);
    s.pipe(s);
  });
  server.maxConnections = 1e6;
  server.listen({ port: Number(args[0]), host: '0.0.0.0', backlog: 4096 }, () =>
    console.log(JSON.stringify({ listening: true })),
  );
  setInterval(() => console.log(JSON.stringify(stats)), 1000);
} else if (role === 'client') {
  const [host, port, n, seconds, pingSeconds, rate] = [args[0], ...args.slice(1).map(Number)];
  const stats = { open: 0, opened: 0, failed: 0, lost: 0, pings: 0, echoes: 0, late: 0, why: {} };
  const sockets = [];
  let closing = false;
  const report = (extra = {}) => console.log(JSON.stringify({ ...stats, ...extra }));
  const open = () =>
    new Promise((resolve) => {
      const s = net.connect({ host, port, noDelay: true });
      let pending = 0;
      let connected = false;
      s.setEncoding('utf8');
      s.on('connect', () => {
        connected = true;
        stats.open++;
        stats.opened++;
        sockets.push(s);
        resolve();
        const first = Math.random() * pingSeconds * 1000;
        const ping = () => {
          if (closing || s.destroyed) return;
          if (pending > 0) stats.late++;
          pending++;
          stats.pings++;
          s.write('ping\n');
        };
        s.timer = setTimeout(() => {
          ping();
          s.interval = setInterval(ping, pingSeconds * 1000);
        }, first);
      });
      s.on('data', (d) => {
        const lines = d.split('\n').length - 1;
        pending -= lines;
        stats.echoes += lines;
      });
      let why = 'end (FIN)';
      s.on('error', (err) => (why = err.code ?? err.message));
      s.on('close', () => {
        clearTimeout(s.timer);
        clearInterval(s.interval);
        if (!connected) {
          stats.failed++;
          resolve();
          return;
        }
        stats.open--;
        if (!closing) {
          stats.lost++;
          const key = `${why} after ${stats.echoes > 0 ? 'echoes began' : 'no echo yet'}`;
          stats.why[key] = (stats.why[key] ?? 0) + 1;
        }
      });
    });
  const ticker = setInterval(report, 1000);
  // At `rate` new connections a second (a tenth of them every 100 ms): a burst faster than
  // ztunnel accepts overflows its listen queue, which is not what this benchmark measures.
  const step = Math.max(1, Math.round(rate / 10));
  for (let i = 0; i < n; i += step) {
    const tick = new Promise((r) => setTimeout(r, 100));
    await Promise.all(Array.from({ length: Math.min(step, n - i) }, open));
    await tick;
  }
  report({ ramped: true });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  closing = true;
  for (const s of sockets) s.end();
  const deadline = Date.now() + 30_000;
  while (stats.open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  clearInterval(ticker);
  report({ done: true });
  process.exit(0);
} else {
  console.error(
    'usage: soak-peer.mjs server <port> | client <host> <port> <n> <seconds> <ping-seconds>',
  );
  process.exit(2);
}
