/**
 * Test hook: with CELLAR_TEST_CRASH_AT=<checkpoint>, a write dies at that named point, as a
 * power cut would (the crash tests check what is left).
 */
export function crashHookFromEnv(): ((name: string) => void) | undefined {
  const at = process.env.CELLAR_TEST_CRASH_AT;
  if (!at) return undefined;
  return (name) => {
    if (name === at) process.kill(process.pid, 'SIGKILL');
  };
}
