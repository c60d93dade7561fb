// The registry's records live in src/shared so the IPC contract can use them.
export * from '../../shared/registry-types';
