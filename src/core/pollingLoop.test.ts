import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollingLoop } from './pollingLoop.js';

/** A loop whose polls answer from `answers` in turn (`'fail'` rejects), then say nothing more is waiting. */
function loopOf(answers: (boolean | 'fail')[], intervalMs = 100, maxBackoffMs = 350) {
  const polls: number[] = [];
  const errors: { message: string; retryInMs: number }[] = [];
  let n = 0;
  const loop = new PollingLoop({
    intervalMs,
    maxBackoffMs,
    poll: () => {
      polls.push(Date.now());
      const answer = answers[n++] ?? false;
      return answer === 'fail' ? Promise.reject(new Error(`poll ${n} failed`)) : Promise.resolve(answer);
    },
    onError: (error, retryInMs) => errors.push({ message: (error as Error).message, retryInMs }),
  });
  return { loop, polls, errors };
}

describe('PollingLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls again at once while more is waiting, then once per interval', async () => {
    const { loop, polls } = loopOf([true, true, false, false]);
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(99);
    expect(polls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(polls).toEqual([0, 0, 0, 100]);
    await vi.advanceTimersByTimeAsync(100);
    expect(polls).toEqual([0, 0, 0, 100, 200]);
    await loop.stop();
  });

  it('after failures waits twice as long each time up to the maximum, and the interval again after a success', async () => {
    const { loop, polls, errors } = loopOf(['fail', 'fail', 'fail', 'fail', false, false]);
    loop.start();
    await vi.advanceTimersByTimeAsync(100 + 200 + 350 + 350 + 100);
    expect(polls).toEqual([0, 100, 300, 650, 1000, 1100]);
    expect(errors).toEqual([
      { message: 'poll 1 failed', retryInMs: 100 },
      { message: 'poll 2 failed', retryInMs: 200 },
      { message: 'poll 3 failed', retryInMs: 350 },
      { message: 'poll 4 failed', retryInMs: 350 },
    ]);
    await loop.stop();
  });

  it('polls at once when woken while idle, but a wake-up does not cut a backoff short', async () => {
    const { loop, polls } = loopOf([false, 'fail', false], 1_000, 5_000);
    loop.start();
    await vi.advanceTimersByTimeAsync(10);
    loop.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toEqual([0, 10]); // the second poll fails: the loop backs off for 1 s
    await vi.advanceTimersByTimeAsync(500);
    loop.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(polls).toEqual([0, 10, 1_010]);
    await loop.stop();
  });

  it('stops in the middle of a wait without waiting it out', async () => {
    const { loop, polls } = loopOf([false], 60_000, 60_000);
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await loop.stop(); // resolves with no timer advanced
    expect(loop.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(polls).toEqual([0]);
  });

  it('stops once the poll under way has ended, and reports no failure of it', async () => {
    let failPoll: (error: Error) => void = () => undefined;
    const errors: unknown[] = [];
    let polls = 0;
    const loop = new PollingLoop({
      intervalMs: 60_000,
      maxBackoffMs: 60_000,
      poll: () => {
        polls++;
        return polls === 1 ? Promise.resolve(false) : new Promise((_, reject) => (failPoll = reject));
      },
      onError: (error) => errors.push(error),
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(loop.stopped).toBe(false);
    loop.wake(); // a second poll, left hanging
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toBe(2);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    expect(loop.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false); // waits for the poll under way
    failPoll(new Error('the chain went away'));
    await stopping;
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(polls).toBe(2);
  });
});
