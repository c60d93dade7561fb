// What Debian's h5py and scipy read from the 10x, Matrix Market and loom fixtures: the
// reference Cellar's readers are compared with. Each source comes back as the cells ×
// kept-features matrix (Gene Expression only), its cell ids, feature ids and symbols, and
// the count of every feature type in the file.
import { runPythonJson } from './python';

const READ_REFERENCE = String.raw`
import sys, json, gzip, os, csv
import numpy as np, h5py, scipy.io, scipy.sparse as sp

def s(values):
    return [v.decode('utf-8') if isinstance(v, bytes) else str(v) for v in values]

def counts(types):
    out = {}
    for t in types:
        out[t] = out.get(t, 0) + 1
    return out

def keep(m_cells_by_features, ids, names, types, extra=None):
    kept = [i for i, t in enumerate(types) if t == 'Gene Expression']
    m = sp.csr_matrix(m_cells_by_features)[:, kept]
    out = {'ids': [ids[i] for i in kept], 'symbols': [names[i] for i in kept], 'types': counts(types),
           'X': m.toarray().tolist(), 'nnz': int(m.nnz)}
    if extra:
        out.update({k: [v[i] for i in kept] for k, v in extra.items()})
    return out

def tenx_h5(path):
    with h5py.File(path, 'r') as f:
        if 'matrix' in f:
            g = f['matrix']
            shape = tuple(g['shape'][()])
            m = sp.csc_matrix((g['data'][()], g['indices'][()], g['indptr'][()]), shape=shape)
            feats = g['features']
            ids, names, types = s(feats['id'][()]), s(feats['name'][()]), s(feats['feature_type'][()])
            out = keep(m.T, ids, names, types, {'genome': s(feats['genome'][()])})
            out['cells'] = s(g['barcodes'][()])
            return out
        blocks, ids, names, genome, cells = [], [], [], [], None
        for name in f.keys():
            g = f[name]
            shape = tuple(g['shape'][()])
            blocks.append(sp.csc_matrix((g['data'][()], g['indices'][()], g['indptr'][()]), shape=shape).T)
            ids += s(g['genes'][()]); names += s(g['gene_names'][()]); genome += [name] * shape[0]
            cells = s(g['barcodes'][()])
        out = keep(sp.hstack(blocks), ids, names, ['Gene Expression'] * len(ids), {'genome': genome})
        out['cells'] = cells
        return out

def lines(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt') as fh:
        return [row for row in csv.reader(fh, delimiter='\t')]

def mtx_folder(folder):
    names = os.listdir(folder)
    pick = lambda stem: os.path.join(folder, next(n for n in names if n.startswith(stem)))
    m = scipy.io.mmread(pick('matrix.mtx'))
    feats = lines(pick('features.tsv') if any(n.startswith('features.tsv') for n in names) else pick('genes.tsv'))
    types = [r[2] if len(r) > 2 else 'Gene Expression' for r in feats]
    out = keep(sp.csr_matrix(m).T, [r[0] for r in feats], [r[1] for r in feats], types)
    out['cells'] = [r[0] for r in lines(pick('barcodes.tsv'))]
    return out

def loom(path):
    with h5py.File(path, 'r') as f:
        X = f['matrix'][()].T
        out = {'cells': s(f['col_attrs/CellID'][()]), 'ids': s(f['row_attrs/Accession'][()]),
               'symbols': s(f['row_attrs/Gene'][()]), 'types': {}, 'X': X.tolist(), 'nnz': int((X != 0).sum()),
               'layers': {k: f['layers'][k][()].T.tolist() for k in f['layers']},
               'obs': {k: f['col_attrs'][k][()].tolist() for k in f['col_attrs'] if k != 'CellID' and f['col_attrs'][k].ndim == 1},
               'obsm': {k: f['col_attrs'][k][()].tolist() for k in f['col_attrs'] if f['col_attrs'][k].ndim == 2}}
        return out

readers = {'10x-h5': tenx_h5, 'mtx': mtx_folder, 'loom': loom}
print(json.dumps({path: readers[kind](path) for kind, path in (a.split('=', 1) for a in sys.argv[1:])}))
`;

export interface ReferenceSource {
  cells: string[];
  ids: string[];
  symbols: string[];
  /** Every feature type of the file with its count (10x only). */
  types: Record<string, number>;
  /** Dense cells × kept features. */
  X: number[][];
  nnz: number;
  genome?: string[];
  layers?: Record<string, number[][]>;
  obs?: Record<string, number[]>;
  obsm?: Record<string, number[][]>;
}

/** Reads each `kind=path` (kind: 10x-h5, mtx, loom) with h5py / scipy. */
export function readReference(sources: Record<string, { kind: '10x-h5' | 'mtx' | 'loom'; path: string }>): Record<string, ReferenceSource> {
  const byPath = runPythonJson<Record<string, ReferenceSource>>(READ_REFERENCE, Object.values(sources).map((s) => `${s.kind}=${s.path}`));
  return Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, byPath[s.path]!]));
}
