/**
 * Reading fields of values the core did not make (thrown errors, options, mapper results) without
 * trusting what a polluted prototype says. Another bug of the application may have set
 * `Object.prototype.status` or `.mode`; such a property must not decide an answer.
 */

/**
 * Prototypes every object shares. A property found only there is not the value's own: ignored.
 * `Error.prototype` holds `name` and `message` defaults that the readers treat as absent anyway.
 */
function isShared(prototype: object): boolean {
  return prototype === Object.prototype || prototype === Error.prototype || prototype === Function.prototype || prototype === Array.prototype;
}

/** Whether `key` is inherited from a prototype of the value's own classes rather than a shared one. */
function inheritedFromClass(value: object, key: PropertyKey): boolean {
  for (let node = Object.getPrototypeOf(value) as object | null; node !== null && !isShared(node); node = Object.getPrototypeOf(node) as object | null) {
    if (Object.prototype.hasOwnProperty.call(node, key)) return true;
  }
  return false;
}

/**
 * @internal The value of `key` when the object itself or one of its own classes defines it, read
 * once (a getter runs once, with the object as receiver); `undefined` when only a shared prototype
 * (`Object.prototype`, `Error.prototype`, …) has it. May throw where the object's getters or Proxy
 * traps throw: callers already guard against that.
 */
export function field(value: object, key: PropertyKey): unknown {
  return keep(value, key, (value as Record<PropertyKey, unknown>)[key]);
}

/**
 * @internal {@link field} for a value the caller read itself as `value[key]` with a literal key,
 * which the engine reads far faster than a computed one: `found` when the object or one of its
 * own classes defines `key`, else `undefined`.
 */
export function keep(value: object, key: PropertyKey, found: unknown): unknown {
  // Absent, or the object's own: the usual cases, decided without walking the prototypes.
  if (found === undefined || Object.prototype.hasOwnProperty.call(value, key)) return found;
  return inheritedFromClass(value, key) ? found : undefined;
}

/** @internal {@link field} for a value of unknown type: `undefined` for primitives and on a throw. */
export function safeField(value: unknown, key: PropertyKey): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return field(value, key);
  } catch {
    return undefined;
  }
}

/**
 * @internal Whether the object or one of its own classes defines `key` (an `in` that ignores the
 * shared prototypes).
 */
export function has(value: object, key: PropertyKey): boolean {
  if (!(key in value)) return false;
  return Object.prototype.hasOwnProperty.call(value, key) || inheritedFromClass(value, key);
}

/**
 * @internal Copies the own enumerable string-keyed properties of an options object into a
 * null-prototype object, each read once. What the prototype chain says is ignored.
 */
export function ownCopy<T extends object>(value: T): Partial<T> {
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) copy[key] = (value as Record<string, unknown>)[key];
  return copy as Partial<T>;
}

/**
 * @internal The name of the value's class, as its prototype's `constructor` says: what an error is
 * when its `name` does not say (node-redis leaves `name` as 'Error'). May throw where a Proxy trap or
 * getter throws.
 */
export function constructorName(value: object): string | undefined {
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
}
