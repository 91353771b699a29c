// A socket with bytes already read from it put back in front. node:http2 reads a net.Socket
// (TCP or TLS) through its native handle, so bytes unshifted onto the JS side would be lost;
// wrapping the socket in a plain Duplex makes http2 read through JS, prefix first. HBONE tunnels
// are plain Duplexes already and need none of this.
import net from 'node:net';
import { Duplex } from 'node:stream';

export function withPrefix(socket: Duplex, initial: Buffer | undefined): Duplex {
  if (!initial || initial.length === 0) return socket;
  if (!(socket instanceof net.Socket)) {
    socket.unshift(initial);
    return socket;
  }
  const d = new Duplex({
    allowHalfOpen: true,
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(initial);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (err) => d.destroy(err));
  socket.on('close', () => d.destroy());
  return d;
}
