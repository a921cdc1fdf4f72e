/**
 * Resolves `{{t1.accountId}}` and `{{input.customer}}` in a tool task's input from the
 * outputs of its dependencies and the run's input. A whole-string reference keeps the
 * value's type; a reference inside longer text is stringified.
 */
export function interpolate(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(value);
    if (whole?.[1]) return lookup(scope, whole[1]);
    return value.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (_match, reference: string) => {
      const found = lookup(scope, reference);
      return typeof found === 'string' ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, scope)]));
  }
  return value;
}

export class UnresolvedReferenceError extends Error {
  override readonly name = 'UnresolvedReferenceError';
}

function lookup(scope: Record<string, unknown>, reference: string): unknown {
  let current: unknown = scope;
  for (const part of reference.split('.')) {
    if (current === null || typeof current !== 'object' || !(part in current)) {
      throw new UnresolvedReferenceError(`{{${reference}}} does not resolve: "${part}" is missing (available: ${Object.keys(scope).join(', ')})`);
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
