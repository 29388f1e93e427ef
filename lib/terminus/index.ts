export { RedlockHealthIndicator } from './redlock-health.indicator.js';
