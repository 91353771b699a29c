// Public surface of @trellis/netsys: what Node.js cannot do itself, from one small N-API addon.
export { originalDst, trackedOriginalDst, fdOf, type SocketAddress } from './original-dst.js';
export { setMark, getMark, setTransparent, getTransparent } from './sockopt.js';
export {
  socketInNetns,
  type NetnsRef,
  type Endpoint,
  type SocketOptions,
  type SocketInNetnsOptions,
} from './socket-in-netns.js';
export {
  listenInNetns,
  connectInNetns,
  udpSocketInNetns,
  type ListenInNetnsOptions,
  type ConnectInNetnsOptions,
  type UdpInNetnsOptions,
} from './netns-sockets.js';
export {
  seqpacketListen,
  seqpacketAccept,
  seqpacketConnect,
  seqpacketSend,
  seqpacketRecv,
  type SeqpacketMessage,
} from './seqpacket.js';
export { leaveReusePortGroup, queuedDatagram } from './udp-handover.js';
export { SeqpacketClient, type SeqpacketClientEvents } from './seqpacket-client.js';
export { SeqpacketServer, type SeqpacketServerEvents } from './seqpacket-server.js';
