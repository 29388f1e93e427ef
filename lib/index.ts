/**
 * nestjs-redlock: distributed locks for NestJS and Express, on the Redlock algorithm.
 * This file is the public surface; anything not exported here is internal.
 */
export * from './core/index.js';
