/** Rejects with `${what} did not finish within N ms` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const outcome = await settleWithin(promise, ms);
  if (!outcome.done) throw new Error(`${what} did not finish within ${ms} ms`);
  return outcome.value;
}

/**
 * Waits for `work` at most `ms` milliseconds: true when it finished in time, false when the time ran out (the work
 * goes on in the background); rejects when the work rejects in time.
 */
export async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return (await settleWithin(work, ms)).done;
}

/** The one race against a timer: `promise`'s value, or `done: false` once `ms` have passed. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
