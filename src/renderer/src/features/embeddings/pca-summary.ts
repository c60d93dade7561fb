/** "PC1 12.3%, PC2 8.1%, …": how much variance the first few components explain. */
export function describeExplainedVariance(ratios: number[] | undefined, shown = 5): string | null {
  if (!ratios?.length) return null;
  const parts = ratios.slice(0, shown).map((r, i) => `PC${i + 1} ${(r * 100).toFixed(1)}%`);
  return ratios.length > shown ? `${parts.join(', ')}, …` : parts.join(', ');
}
