// HTTP/2 settings (RFC 9113 §6.5.2) under the names Node's http2 gives them.
import { DEFAULT_MAX_FRAME_SIZE } from './frames.pure.js';

export interface H2Settings {
  headerTableSize: number;
  enablePush: boolean;
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  maxHeaderListSize: number;
}

/** The values in force before a peer's SETTINGS say otherwise. */
export const DEFAULT_SETTINGS: Readonly<H2Settings> = {
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: 65_535,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
};
