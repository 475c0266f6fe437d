/**
 * Reading fields of values the core did not make (thrown errors, options, mapper results) without
 * trusting what a polluted prototype says. Another bug of the application may have set
 * `Object.prototype.status` or `.mode`; such a property must not decide an answer.
 */

/**
 * Prototypes every object shares. A property found only there is not the value's own: ignored.
 * `Error.prototype` holds `name` and `message` defaults that the readers treat as absent anyway.
 */
const SHARED: readonly object[] = [Object.prototype, Error.prototype, Function.prototype, Array.prototype];

/** Whether one of the shared prototypes holds `key`: only then can a plain read be fooled. */
function shared(key: PropertyKey): boolean {
  for (const prototype of SHARED) {
    if (Object.prototype.hasOwnProperty.call(prototype, key)) return true;
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
  // The usual case: nothing shared defines the key, so a plain read cannot reach a polluted one.
  if (!shared(key)) return (value as Record<PropertyKey, unknown>)[key];
  for (let node: object | null = value; node !== null && !SHARED.includes(node); node = Object.getPrototypeOf(node) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(node, key);
    if (descriptor === undefined) continue;
    if ('value' in descriptor) return descriptor.value;
    return descriptor.get === undefined ? undefined : (descriptor.get as (this: object) => unknown).call(value);
  }
  return undefined;
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
  if (!shared(key)) return key in value;
  for (let node: object | null = value; node !== null && !SHARED.includes(node); node = Object.getPrototypeOf(node) as object | null) {
    if (Object.prototype.hasOwnProperty.call(node, key)) return true;
  }
  return false;
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
