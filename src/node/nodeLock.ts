import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../core/errors.js';

/**
 * Takes the data folder's lock: one node per data folder, because the record writer is the only assigner of
 * record ids and batch positions. A lock left by a crashed node (its pid no longer alive) is taken over.
 */
export function acquireNodeLock(dataDir: string): () => void {
  const file = join(dataDir, 'node.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new ConfigurationError(
          'NODE.ALREADY_RUNNING',
          `Another CareLedger node (pid ${pid}) is using the data folder ${dataDir}; stop it or set CARELEDGER_DATA to another folder.`,
        );
      }
      rmSync(file, { force: true }); // stale: its node is gone
    }
  }
  throw new ConfigurationError('NODE.LOCK_FAILED', `Could not take the lock ${file}.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
