import type { Redis } from 'ioredis';

/**
 * Creates the ACL user `noscripts` (password `pw`) on the node `admin` is connected to: every
 * command but EVALSHA and EVAL, so it can SET but run no script.
 */
export async function createNoScriptsUser(admin: Redis): Promise<void> {
  await admin.call(
    'ACL',
    'SETUSER',
    'noscripts',
    'on',
    '>pw',
    '~*',
    '&*',
    '+@all',
    '-evalsha',
    '-eval',
  );
}
