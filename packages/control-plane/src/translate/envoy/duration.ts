// Gateway API durations (GEP-2257: "1h", "30s", "500ms", "1m30s"; up to four parts) -> protobuf Duration.
import { create } from '@bufbuild/protobuf';
import { DurationSchema, type Duration } from '@bufbuild/protobuf/wkt';

const PART = /([0-9]{1,5})(h|ms|m|s)/gy;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when the text is not a Gateway API duration. */
export function parseGatewayDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let parts = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    parts++;
  }
  return parts <= 4 ? total : undefined;
}

export function durationFromMs(ms: number): Duration {
  return create(DurationSchema, {
    seconds: BigInt(Math.floor(ms / 1000)),
    nanos: (ms % 1000) * 1_000_000,
  });
}
