/** The Lua scripts the nodes run, and every Redis key and channel the engine keeps beside a resource. */
export * from './scripts.js';
export * from './wait-queue-scripts.js';
export * from './wait-queue-keys.js';
export { fencingCounterKey, FENCING_COUNTER_SUFFIX } from './fencing-counter-key.js';
export { luaScript, LUA_GREATER, type LuaScript } from './lua-script.js';
