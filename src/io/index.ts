// I/O priority: foreground programs hold (a listener on TCP 8244), background work waits at a gate.
export { IoPriorityListener } from './listener.js';
export { IoPriority, localAddress } from './holder.js';
export { IoPriorityGate, OPEN_GATE, type IoGate } from './gate.js';
export { copyFileGated, copyTreeGated } from './gated-copy.js';
export { gateTargets, ioSettings, openIoGate } from './settings.js';
export { queryIoStatus, type IoStatus } from './status.js';
