/** "PC1 12.3%, PC2 8.1%, …": how much variance the first few components explain. */
export function describeExplainedVariance(ratios: number[] | undefined, shown = 5): string | null {
  if (!ratios?.length) return null;
  const parts = ratios.slice(0, shown).map((r, i) => `PC${i + 1} ${(r * 100).toFixed(1)}%`);
  return ratios.length > shown ? `${parts.join(', ')}, …` : parts.join(', ');
}

/** "PC1 (12.3%)" when the store knows the component's share of the variance, else "umap 1". */
export function axisLabel(embedding: string, component: number, ratios: number[] | undefined): string {
  const ratio = ratios?.[component];
  if (ratio === undefined) return `${embedding} ${component + 1}`;
  return `PC${component + 1} (${(ratio * 100).toFixed(1)}%)`;
}
