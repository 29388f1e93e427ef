/**
 * nestjs-redlock: distributed locks for NestJS and Express, on the Redlock algorithm.
 * This file is the public surface; anything not exported here is internal. The engine alone,
 * without Nest, is `nestjs-redlock/core`.
 *
 * @packageDocumentation
 * @module nestjs-redlock
 */
export * from './core/index.js';
export * from './express/index.js';
export * from './nest/index.js';
