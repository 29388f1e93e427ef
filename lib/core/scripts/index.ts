/** The Lua scripts the nodes run, and every Redis key and channel the engine keeps beside a resource. */
export * from './scripts.js';
export * from './wait-queue-scripts.js';
export * from './read-write-scripts.js';
export * from './semaphore-scripts.js';
export * from './keys.js';
export { evalWithFallback, luaScript, LUA_GREATER, type LuaScript } from './lua-script.js';
