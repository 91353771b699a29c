// Used by lifecycle.test.ts: an echo server under a lifecycle that handles SIGTERM. It prints
// {"port": n} once listening and "exited cleanly" after shutdown, then ends by itself: if
// anything were left open the process would not exit.
import net from 'node:net';
import { createLifecycle } from '../dist/lifecycle.js';
import { createLogger } from '../dist/logger.js';

const log = createLogger({
  name: 'lifecycle-child',
  destination: { write: (line) => process.stderr.write(line) },
});
const lifecycle = createLifecycle({ logger: log.scope('lifecycle'), drainMs: 10_000 });
const server = net.createServer((socket) => socket.pipe(socket));
lifecycle.addServer('echo', server);
lifecycle.onShutdown('goodbye', () => console.log('hook ran'));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
await lifecycle.done;
console.log('exited cleanly');
