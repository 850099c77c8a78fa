// Shapes shared by the generated codecs.

/**
 * What an encoder accepts for a message of type T: every field optional, at any
 * depth. A missing (undefined) field is encoded as its spec default, as Kafka's
 * Java classes do for fields never set. Decoders always return complete objects.
 * `null` stays distinct from `undefined`: it is the wire null.
 */
export type Init<T> = { [K in keyof T]?: InitOf<T[K]> };

export type InitOf<V> = V extends Uint8Array
  ? V
  : V extends readonly (infer E)[]
    ? readonly InitOf<E>[]
    : V extends object
      ? Init<V>
      : V;
