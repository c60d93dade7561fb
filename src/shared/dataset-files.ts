// Which single-cell files the app takes by name: the engine's readers for files (an .h5ad,
// a 10x HDF5 file, a .loom). A Matrix Market folder is a folder, so it is never taken by a
// file name; the desktop dialog chooses it with kind 'folder'.

/** Suffixes without the dot, in the order the open dialog lists them. */
export const DATASET_EXTENSIONS = ['h5ad', 'h5', 'loom'] as const;

/** The `accept` of a browser file input for dataset files. */
export const DATASET_ACCEPT = DATASET_EXTENSIONS.map((e) => `.${e}`).join(',');

/** How the suffixes read in a sentence. */
export const DATASET_SUFFIXES_TEXT = '.h5ad, .h5 or .loom';

/** True when a file name or path ends in one of the dataset suffixes (any case). */
export function isDatasetFileName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot < 0) return false;
  return (DATASET_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1).toLowerCase());
}
