/**
 * Waits for independent steps started together (the side writes after an entity write: analytics delta,
 * activity entry, notifications), then throws the first failure, if any. Unlike Promise.all it never returns
 * while a step is still running, so a request does not answer (or a shutdown finish) before all of them end.
 */
export async function concurrently(...steps: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
