/**
 * trpc-to-openapi sets `coerce = true` on every number/boolean/bigint/date schema inside an input object —
 * meant for query strings, but it does it for JSON bodies too, so `"timeoutMs": "100"` would be accepted as 100
 * and `[3]` as 3. Our inputs are JSON bodies and path strings only: this pins `coerce` to false on every such
 * schema reachable from an input, so wrong types stay a 400 and a stored definition is exactly what was sent.
 */

interface ZodLike {
  _zod?: { def?: Record<string, unknown> & { type?: string } };
}

const COERCIBLE = new Set(['number', 'boolean', 'bigint', 'date']);
const INNER_KEYS = ['innerType', 'element', 'in', 'out', 'keyType', 'valueType', 'left', 'right', 'rest'];

function children(def: Record<string, unknown> & { type?: string }): unknown[] {
  const found: unknown[] = [];
  if (def.type === 'object' && def['shape']) found.push(...Object.values(def['shape'] as object));
  if (def.type === 'lazy' && typeof def['getter'] === 'function') found.push((def['getter'] as () => unknown)());
  for (const key of ['options', 'items']) if (Array.isArray(def[key])) found.push(...(def[key] as unknown[]));
  for (const key of INNER_KEYS) if (def[key]) found.push(def[key]);
  return found;
}

export function pinNoCoercion(schema: unknown, seen = new Set<unknown>()): void {
  const stack = [schema];
  while (stack.length > 0) {
    const current = stack.pop() as ZodLike | undefined;
    const def = current?._zod?.def;
    if (!def || seen.has(def)) continue;
    seen.add(def);
    if (def.type && COERCIBLE.has(def.type) && !Object.getOwnPropertyDescriptor(def, 'coerce')?.get) {
      Object.defineProperty(def, 'coerce', { get: () => false, set: () => {}, enumerable: true, configurable: false });
    }
    stack.push(...children(def));
  }
}

/** Pins every procedure input of a tRPC router. */
export function pinRouterInputs(router: { _def: { procedures: Record<string, unknown> } }): void {
  const seen = new Set<unknown>();
  for (const procedure of Object.values(router._def.procedures)) {
    const inputs = (procedure as { _def?: { inputs?: unknown[] } })._def?.inputs ?? [];
    for (const input of inputs) pinNoCoercion(input, seen);
  }
}
