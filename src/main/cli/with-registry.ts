import { openRegistry, type Registry } from '../registry/registry';
import type { CommandContext } from './context';

/** Opens the home's registry for one command and always closes it. */
export async function withRegistry<T>(ctx: CommandContext, work: (registry: Registry, home: string) => Promise<T>): Promise<T> {
  const home = ctx.home();
  const registry = openRegistry(home);
  try {
    return await work(registry, home);
  } finally {
    registry.close();
  }
}
