import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Tells when what has been committed so far would survive a power loss. */
export interface Durability {
  whenDurable(): Promise<void>;
  close(): void;
}

/** For a database whose commits are durable when they return (or that does not need to be: `:memory:`). */
export const durableAtCommit: Durability = {
  whenDurable: () => Promise.resolve(),
  close: () => undefined,
};

/**
 * Group fsync of a WAL-mode SQLite database run with `synchronous = NORMAL`: a commit only writes its frames to the
 * WAL file (the OS page cache), which already survives a crash of the process, and `whenDurable()` resolves after an
 * fsync of the WAL file that began after the caller's commit, which makes it survive a power loss too.
 *
 * This is what `synchronous = FULL` does, minus its cost: FULL fsyncs inside every commit, on the event loop,
 * blocking the gateway for the whole disk flush; here the fsync runs on libuv's thread pool, one at a time, and
 * every commit made while one runs shares the next. SQLite's recovery keeps every transaction whose frames reached
 * the disk, so a write acknowledged after `whenDurable()` is as durable as with FULL.
 */
export class WalFsync implements Durability {
  private readonly walFile: string;
  private fd: number | null = null;
  private running: Promise<void> | null = null;
  private waiting: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null =
    null;

  constructor(databaseFile: string) {
    this.walFile = `${databaseFile}-wal`;
  }

  whenDurable(): Promise<void> {
    if (this.waiting) return this.waiting.promise;
    if (!this.running) {
      this.running = this.sync();
      return this.running;
    }
    // The running fsync may have started before the caller's commit: the caller needs the next one.
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiting = { promise, resolve, reject };
    return promise;
  }

  private sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        fd = this.walFd();
      } catch (error) {
        reject(error);
        return;
      }
      fsync(fd, (error) => (error ? reject(error) : resolve()));
    }).finally(() => {
      this.running = null;
      const next = this.waiting;
      this.waiting = null;
      if (next) {
        this.running = this.sync();
        this.running.then(next.resolve, next.reject);
      }
    });
  }

  /**
   * The WAL file exists from the first write on and stays while the node's connection is open (SQLite removes it
   * only when the last connection closes). Its directory entry is made durable once, when first opened.
   */
  private walFd(): number {
    if (this.fd === null) {
      this.fd = openSync(this.walFile, 'r');
      const dir = openSync(dirname(this.walFile), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    return this.fd;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
