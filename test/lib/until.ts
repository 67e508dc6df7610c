// Waiting in tests: poll until a condition holds, or fail naming what was awaited.

/** Calls `fn` every `stepMs` until it returns something truthy (returned), or throws after `ms`. */
export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  ms = 10_000,
  stepMs = 100,
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
