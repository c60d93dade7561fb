/** glibc malloc settings for large arrays (see malloc-tuning.mjs). */
export declare const MALLOC_TUNABLES: string;
/** Set in the restarted process. */
export declare const TUNED_MARK: string;
/** The environment to restart with, or null when there is nothing to do. */
export declare function tunedEnvironment(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): NodeJS.ProcessEnv | null;
