import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, H2ProtocolError } from './frames.pure.js';
import { ReceiveWindow, SendWindow } from './flow.pure.js';

describe('HTTP/2 flow control', () => {
  it('a send window shrinks as data goes out, grows with WINDOW_UPDATE, and may go negative with SETTINGS', () => {
    const window = new SendWindow(65_535);
    window.consume(65_535);
    assert.equal(window.available, 0);
    assert.throws(() => window.consume(1), /window of 0/);
    window.grow(100, 1);
    assert.equal(window.available, 100);
    window.grow(-1000, 1); // the peer lowered SETTINGS_INITIAL_WINDOW_SIZE
    assert.equal(window.available, -900);
  });

  it('a send window above 2^31-1 is a FLOW_CONTROL_ERROR, of the stream or the connection', () => {
    const stream = new SendWindow(2 ** 31 - 10);
    assert.throws(
      () => stream.grow(10, 3),
      (err: unknown) =>
        err instanceof H2ProtocolError &&
        err.code === ErrorCode.FLOW_CONTROL_ERROR &&
        err.streamId === 3,
    );
    assert.throws(() => new SendWindow(2 ** 31 - 1).grow(1, 0), /the connection/);
  });

  it('a receive window refuses more than it offered and announces released data in batches', () => {
    const window = new ReceiveWindow(1000, 400);
    window.receive(600, 1);
    assert.equal(window.open, 400);
    assert.throws(
      () => window.receive(401, 1),
      (err: unknown) => err instanceof H2ProtocolError && err.code === ErrorCode.FLOW_CONTROL_ERROR,
    );
    assert.equal(window.release(300), 0); // below the threshold: no WINDOW_UPDATE yet
    assert.equal(window.open, 400);
    assert.equal(window.release(200), 500);
    assert.equal(window.open, 900);
    window.receive(900, 1);
    assert.equal(window.open, 0);
  });
});
