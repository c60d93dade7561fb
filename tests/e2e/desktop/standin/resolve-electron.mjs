// Module resolution hook of the boot process: `electron` is the stand-in, nothing else changes.
let standin;

export function initialize(data) {
  standin = data.standin;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron') return { url: standin, shortCircuit: true };
  return nextResolve(specifier, context);
}
