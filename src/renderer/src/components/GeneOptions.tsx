// How files' genes are put together, the same choices as the CLI's --join and --match-genes:
// every gene or only those every file measured, ids matched exactly or without Ensembl's
// version suffix (ENSG…​.5 and ENSG…​.7 are one gene).
import { useId } from 'react';

export type GeneJoin = 'outer' | 'inner';
export type GeneMatch = 'exact' | 'unversioned';

export interface GeneChoices {
  join: GeneJoin;
  matchGenes: GeneMatch;
}

export const DEFAULT_GENE_CHOICES: GeneChoices = { join: 'outer', matchGenes: 'exact' };

/** Only the choices that differ from the defaults, so requests stay as they were without them. */
export function geneRequestFields(choices: Partial<GeneChoices>): Partial<GeneChoices> {
  return {
    ...(choices.join && choices.join !== DEFAULT_GENE_CHOICES.join ? { join: choices.join } : {}),
    ...(choices.matchGenes && choices.matchGenes !== DEFAULT_GENE_CHOICES.matchGenes ? { matchGenes: choices.matchGenes } : {}),
  };
}

/**
 * The "Genes" fieldset. `join` is left out where the operation has no choice (an append
 * keeps every gene of the store and adds the new ones).
 */
export function GeneOptions({ join, matchGenes, onChange }: { join?: GeneJoin; matchGenes: GeneMatch; onChange(choices: Partial<GeneChoices>): void }) {
  const name = useId();
  return (
    <fieldset className="options" aria-label="Genes">
      <legend>Genes</legend>
      {join !== undefined && (
        <div role="radiogroup" aria-label="Which genes">
          <label className="checkbox">
            <input type="radio" name={`${name}-join`} checked={join === 'outer'} onChange={() => onChange({ join: 'outer' })} />
            Keep every gene any file measured
          </label>
          <label className="checkbox">
            <input type="radio" name={`${name}-join`} checked={join === 'inner'} onChange={() => onChange({ join: 'inner' })} />
            Only genes every file measured
          </label>
        </div>
      )}
      <div role="radiogroup" aria-label="Matching gene ids">
        <label className="checkbox">
          <input type="radio" name={`${name}-match`} checked={matchGenes === 'exact'} onChange={() => onChange({ matchGenes: 'exact' })} />
          Match gene ids exactly
        </label>
        <label className="checkbox">
          <input type="radio" name={`${name}-match`} checked={matchGenes === 'unversioned'} onChange={() => onChange({ matchGenes: 'unversioned' })} />
          Match gene ids ignoring Ensembl version suffixes (.1, .2, …)
        </label>
      </div>
    </fieldset>
  );
}
