/*
 * `npm run sample`: starts 3 local redis-server nodes (unless REDLOCK_NODES names real ones)
 * and the sample app; Ctrl-C stops everything it started.
 */
import { spawn } from 'node:child_process';
import { lockNodes } from './local-nodes.js';

const nodes = await lockNodes();
console.log(`Redis nodes: ${nodes.urls.join(', ')}${nodes.local ? ' (started here)' : ''}`);
const app = spawn(process.execPath, [new URL('../src/main.js', import.meta.url).pathname], {
  stdio: 'inherit',
  env: { ...process.env, REDLOCK_NODES: nodes.urls.join(',') },
});

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (app.exitCode === null) {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
  }
  await nodes.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
app.once('exit', (code) => void stop(code ?? 1));
