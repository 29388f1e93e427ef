/**
 * The `@nestjs/terminus` health indicator.
 *
 * @packageDocumentation
 * @module nestjs-redlock/terminus
 */
export { RedlockHealthIndicator, type RedlockHealthDetails } from './redlock-health.indicator.js';
