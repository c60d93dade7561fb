// A function run in a worker by the jobs tests: `steps` steps of `stepMs` each, reporting after each.
export async function slowSteps(steps: number, stepMs: number, options: { onProgress?: (progress: number) => void } = {}): Promise<number> {
  for (let i = 0; i < steps; i++) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    options.onProgress?.(i + 1);
  }
  return steps;
}
