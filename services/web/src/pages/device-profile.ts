// A device vendor profile is edited as JSON (prompt, paging, login steps,
// algorithms, rules): the text is parsed here, and a parse error is said with
// its position before the API's schema checks the rest.

/** The spec's JSON text → the value for the body, or a sentence saying why it is not JSON. */
export function parseSpec(text: unknown): { spec: unknown } | { error: string } {
  const t = String(text ?? '').trim();
  if (!t) return { spec: {} };
  try {
    return { spec: JSON.parse(t) as unknown };
  } catch (err) {
    return { error: `Profile (JSON): ${(err as Error).message}` };
  }
}

/** A readable one-line summary of a profile: its mode and how many rules it has. */
export function specSummary(spec: { mode: string; rules: unknown[]; login: unknown[] }): string {
  const rules = `${spec.rules.length} rule${spec.rules.length === 1 ? '' : 's'}`;
  return `${spec.mode}, ${rules}, ${spec.login.length} login step${spec.login.length === 1 ? '' : 's'}`;
}
