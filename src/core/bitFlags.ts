/**
 * Named bit flags, as the registries keep roles and purposes of use in a `uint32` mask: names to a mask (an unknown
 * name is refused with the caller's error) and a mask back to names, in flag order.
 */
export interface BitFlags<Name extends string> {
  /** Every name, in flag order. */
  readonly names: readonly Name[];
  has(name: string): name is Name;
  /** ORs the names' flags; duplicates are harmless, an empty list gives 0. */
  toMask(names: readonly string[]): number;
  /** The names set in `mask`; bits that are not defined flags are ignored. */
  fromMask(mask: number): Name[];
}

export function bitFlags<Flags extends Record<string, number>>(
  flags: Flags,
  unknown: (name: string, known: readonly (keyof Flags & string)[]) => Error,
): BitFlags<keyof Flags & string> {
  type Name = keyof Flags & string;
  const names = Object.keys(flags) as Name[];
  const has = (name: string): name is Name => Object.prototype.hasOwnProperty.call(flags, name);
  return {
    names,
    has,
    toMask(list) {
      let mask = 0;
      for (const name of list) {
        if (!has(name)) throw unknown(name, names);
        mask |= flags[name] as number;
      }
      return mask;
    },
    fromMask: (mask) => names.filter((name) => (mask & (flags[name] as number)) !== 0),
  };
}
