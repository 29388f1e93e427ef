/*
 * Preloaded (`node --import`) into a fault-suite worker whose wall clock must be off:
 * `Date.now()` answers the real time plus DATE_SHIFT_MS. The engine must not care.
 */
const shiftMs = Number(process.env.DATE_SHIFT_MS ?? 0);
const realNow = Date.now.bind(Date);
Date.now = () => realNow() + shiftMs;
export {};
