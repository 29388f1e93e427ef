/**
 * What a node's error says about its set-up, and what to do about it: a refused password needs
 * another password, not a longer `nodeTimeoutMs`.
 */

/** The cause of a node's failure, as far as its error tells. */
export type NodeProblem =
  | 'auth'
  | 'permission'
  | 'refused'
  | 'dns'
  | 'tls'
  | 'reset'
  | 'database'
  | 'read-only'
  | 'command'
  | 'timeout'
  | 'restarted'
  | 'evicting'
  | 'other';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The cause behind `error` (a node's reply error, a socket error, or the engine's own). */
export function diagnose(error: unknown): NodeProblem {
  if (!isErrorLike(error)) return 'other';
  const cause = (error as { cause?: unknown }).cause;
  if (isErrorLike(cause)) {
    const problem = diagnose(cause);
    if (problem !== 'other') return problem;
  }
  const message = error.message;
  const code = String((error as { code?: unknown }).code ?? '');
  if (code === 'NODE_RESTARTED') return 'restarted';
  if (code === 'NODE_MAY_EVICT') return 'evicting';
  if (/\b(NOAUTH|WRONGPASS)\b/.test(message)) return 'auth';
  if (/\bNOPERM\b/.test(message)) return 'permission';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_SSL') ||
    /\b(SSL|TLS)\b|certificate/i.test(message)
  ) {
    return 'tls';
  }
  if (code === 'ECONNRESET') return 'reset';
  if (/DB index is out of range/.test(message)) return 'database';
  if (/^READONLY\b/.test(message)) return 'read-only';
  if (/unknown command|NOSCRIPT No matching script/i.test(message)) return 'command';
  if (
    code === 'NODE_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    /no answer for|still connecting/.test(message)
  ) {
    return 'timeout';
  }
  return 'other';
}

const ADVICE: Readonly<Record<NodeProblem, string>> = Object.freeze({
  auth: 'Check the username and password in the node URL or options (the server refused them).',
  permission:
    'The ACL user lacks a permission the engine needs: grant the minimal ACL in the README ' +
    '("Troubleshooting").',
  refused: 'Nothing listens there: check the host and port, and that the node is running.',
  dns: 'The host name does not resolve: check it.',
  tls:
    'TLS failed: check the CA the client trusts (`tls.ca`), the certificate’s host names, and ' +
    'that the port serves TLS (use rediss://) or not (redis://).',
  reset:
    'The node closed the connection: a TLS port does this to a plaintext client, so use ' +
    'rediss:// for it; or the node is restarting.',
  database: 'The database index is not below the server’s `databases` setting: use a smaller one.',
  'read-only':
    'The node is a replica, which cannot take locks: list independent primaries instead.',
  command:
    'A command the engine needs (EVAL, EVALSHA, SCRIPT) is renamed or disabled on the node: see ' +
    'the README ("Troubleshooting").',
  timeout: 'Check that the node is up and reachable; if it is only slow, raise `nodeTimeoutMs`.',
  restarted:
    'The node restarted recently: its votes count again once `restartDelayMs` has passed ' +
    'since its start.',
  evicting: 'Set `maxmemory-policy noeviction` on the node, or use a Redis for locks only.',
  other: 'Check that the node is up and reachable.',
});

/**
 * An error, from this realm or another: Node's own socket errors fail `instanceof Error` where
 * the package runs in a VM context (jest), and a second copy of ioredis has its own classes.
 */
function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** `error`'s message followed by the advice that fits its cause, as one text. */
export function describeWithAdvice(error: Error): string {
  return `${error.message.replace(/\.+$/, '')}. ${adviceFor(diagnose(error))}`;
}

/** What to do about `problem`, in a sentence. */
export function adviceFor(problem: NodeProblem): string {
  return ADVICE[problem];
}

/** Commands whose arguments are secrets. */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate']);
/** Commands whose arguments hold lock values (a lock's value is the right to release it). */
const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'evalsha_ro', 'eval_ro']);

/**
 * Hides what a node error must not show in logs: AUTH and HELLO arguments (passwords) in the
 * command ioredis attaches, script arguments (lock values), and the arguments Redis echoes in
 * "unknown command" replies. Changes `error` in place and answers it.
 */
export function redactNodeError<T>(error: T): T {
  if (!isErrorLike(error)) return error;
  const command = (error as { command?: { name?: unknown; args?: unknown } }).command;
  if (command && typeof command === 'object' && Array.isArray(command.args)) {
    const name = String(command.name).toLowerCase();
    if (SECRET_COMMANDS.has(name)) command.args = command.args.map(() => '***');
    else if (SCRIPT_COMMANDS.has(name)) command.args = [command.args[0], '(arguments hidden)'];
  }
  if (error.message.includes('with args beginning with:')) {
    const original = error.message;
    error.message = original.replace(/with args beginning with:.*$/s, '(arguments hidden)');
    // The stack starts with the message, and util.inspect prints the stack.
    if (error.stack) error.stack = error.stack.replace(original, error.message);
  }
  return error;
}
