// I/O priority: foreground programs hold (listener on TCP 8244), background work waits at a gate.
export { IoPriorityListener } from './listener.js';
export { IoPriority, localAddress, type IoHold, type IoPriorityOptions } from './holder.js';
export { IoPriorityGate, OPEN_GATE, type IoGate, type IoGateOptions } from './gate.js';
export type { IoTarget } from './host-watch.js';
export { copyFileGated, copyTreeGated, COPY_CHUNK_BYTES, type GatedCopyOptions } from './gated-copy.js';
export { gateTargets, ioSettings, openIoGate } from './settings.js';
export { queryIoStatus, type IoStatus } from './status.js';
export { IO_PROTOCOL_VERSION } from './protocol.js';
