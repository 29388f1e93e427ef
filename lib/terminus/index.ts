export { RedlockHealthIndicator, type RedlockHealthDetails } from './redlock-health.indicator.js';
