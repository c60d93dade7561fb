// A reader's view of the store's varint lists, written apart from the engine's decoder so the
// tests that read store files with other Arrow implementations check it: the running sums of
// deltas stored as unsigned LEB128 varints (7 bits a byte, low bits first, high bit set on
// every byte but a delta's last).
export function runningSumsOfVarints(bytes: readonly number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  let value = 0;
  let shift = 0;
  for (const byte of bytes) {
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) {
      out.push((sum += value));
      value = 0;
      shift = 0;
    }
  }
  return out;
}
