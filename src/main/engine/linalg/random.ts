// Seedable pseudo-random numbers: xoshiro128** seeded through splitmix32, so the same
// seed gives the same stream on every platform (32-bit integer arithmetic only).

export interface Random {
  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal deviate (Box–Muller, both values of each pair used). */
  gaussian(): number;
  /** Fills `out` with standard normal deviates. */
  fillGaussian(out: Float64Array): void;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A deterministic generator; any finite number is a valid seed (its integer part is used, both 32-bit halves). */
export function createRandom(seed: number): Random {
  const whole = Math.trunc(Number.isFinite(seed) ? seed : 0);
  const seeder = { s: (whole | 0) ^ Math.imul(Math.floor(whole / 4294967296) | 0, 0x632be5ab) };
  let a = splitmix32(seeder);
  let b = splitmix32(seeder);
  let c = splitmix32(seeder);
  let d = splitmix32(seeder);
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };

  const uniform = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;

  let spare = 0;
  let hasSpare = false;
  const gaussian = (): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    let u = uniform();
    while (u === 0) u = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    hasSpare = true;
    return radius * Math.cos(angle);
  };

  return {
    uniform,
    gaussian,
    fillGaussian(out: Float64Array): void {
      for (let i = 0; i < out.length; i++) out[i] = gaussian();
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
