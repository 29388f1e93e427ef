export * from './lock.error.js';
export * from './resource-locked.error.js';
export * from './quorum-unavailable.error.js';
export * from './lock-lost.error.js';
export * from './cross-slot.error.js';
export * from './redlock-closed.error.js';
export * from './node.error.js';
export * from './invalid-lock-key.error.js';
