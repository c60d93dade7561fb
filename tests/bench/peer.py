#!/usr/bin/python3
"""The peer side of the SPEC §8 benchmarks: Debian's anndata 0.8 / h5py / scipy on the same files.

Each subcommand does one measurement in its own process (so peak RSS is per step) and
prints one JSON line: {"seconds": ..., "peak_rss_bytes": ..., ...}. Timings exclude the
interpreter start and the top-level imports; peak RSS is the whole process
(resource.getrusage(RUSAGE_SELF).ru_maxrss, which Linux reports in KiB).

    peer.py concat  --out OUT.h5ad IN.h5ad...   B1: read_h5ad x N + anndata.concat + write_h5ad
    peer.py concat5 --out OUT.h5ad IN.h5ad...   B2: the same over the 4 files + the append file (outer join)
    peer.py backed_open FILE                   B3: read_h5ad(backed='r') in this fresh process
    peer.py obs_filter FILE --cell-types A,B --pct-mito-below X   B3: pandas filter on obs -> row numbers, warm median
    peer.py rows FILE --cells CELLS.json       B4: backed X rows for each list of row numbers -> CSR
    peer.py cols --genes IDS IN.h5ad...        B5: backed X columns for the genes, per file, summed
    peer.py pca FILE --genes-out G --scores-out S.npy [--n-genes 2000 --components 50]   B6
    peer.py bytes FILE...                      B7: h5ad bytes per stored non-zero
    peer.py de FILE --group-cells N --pvals-out P.json [--max-wilcoxon-genes 2000]   B8: Wilcoxon and Welch t per gene, the N cells of highest pct_mito vs the rest
    peer.py graph EMBEDDING.npy [--k 15 --resolution 1 --ours-membership M.i32]   B9: pynndescent kNN + UMAP's fuzzy weights + leidenalg
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")  # anndata 0.8 warns about missing optional torch on import

import anndata  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from anndata.experimental import read_elem  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.sparse.linalg import LinearOperator, svds  # noqa: E402


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(**fields):
    fields["peak_rss_bytes"] = peak_rss_bytes()
    print(json.dumps(fields))


def concat(files, out, join):
    t0 = time.perf_counter()
    adatas = [anndata.read_h5ad(f) for f in files]
    t_read = time.perf_counter()
    # label= adds the per-dataset column the store also adds; obs ids are already unique.
    combined = anndata.concat(adatas, join=join, label="dataset")
    t_concat = time.perf_counter()
    combined.write_h5ad(out)
    t_write = time.perf_counter()
    emit(seconds=t_write - t0, read_seconds=t_read - t0, concat_seconds=t_concat - t_read,
         write_seconds=t_write - t_concat, n_obs=combined.n_obs, n_vars=combined.n_vars, nnz=int(combined.X.nnz),
         out_bytes=os.path.getsize(out))


def backed_open(path):
    t0 = time.perf_counter()
    adata = anndata.read_h5ad(path, backed="r")
    seconds = time.perf_counter() - t0
    emit(seconds=seconds, n_obs=adata.n_obs, n_vars=adata.n_vars)
    adata.file.close()


def obs_filter(path, repeats, cell_types, pct_mito_below):
    """run.ts sends our side the same condition as a value_filter:
    cell_type in [<cell_types>] and pct_mito < <pct_mito_below>"""
    adata = anndata.read_h5ad(path, backed="r")
    obs = adata.obs
    times = []
    matched = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        mask = obs["cell_type"].isin(cell_types).to_numpy() & (obs["pct_mito"].to_numpy() < pct_mito_below)
        joinids = np.flatnonzero(mask)
        times.append(time.perf_counter() - t0)
        matched = joinids
    emit(seconds=statistics.median(times), min_seconds=min(times), repeats=repeats, n_obs=int(obs.shape[0]),
         n_matched=int(matched.shape[0]), matched_checksum=int(matched.sum()))
    adata.file.close()


def rows(path, cells_path, repeats):
    with open(cells_path) as fh:
        cell_sets = json.load(fh)
    adata = anndata.read_h5ad(path, backed="r")
    results = []
    for cells in cell_sets:
        index = np.asarray(cells, dtype=np.int64)
        times = []
        nnz = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            block = adata.X[index]  # backed CSR rows -> scipy csr_matrix
            times.append(time.perf_counter() - t0)
            nnz = int(block.nnz)
            assert sp.isspmatrix_csr(block) and block.shape[0] == index.shape[0]
        seconds = statistics.median(times)
        results.append(dict(n_cells=int(index.shape[0]), seconds=seconds, nnz=nnz, nnz_per_second=nnz / seconds))
    emit(seconds=sum(r["seconds"] for r in results), repeats=repeats, sizes=results)
    adata.file.close()


def cols(files, gene_ids):
    per_file = []
    total_nnz = 0
    for path in files:
        t0 = time.perf_counter()
        adata = anndata.read_h5ad(path, backed="r")
        positions = adata.var_names.get_indexer(gene_ids)
        positions = np.sort(positions[positions >= 0])
        block = adata.X[:, positions]
        seconds = time.perf_counter() - t0
        adata.file.close()
        per_file.append(dict(file=os.path.basename(path), seconds=seconds, n_obs=int(block.shape[0]), nnz=int(block.nnz)))
        total_nnz += int(block.nnz)
    emit(seconds=sum(f["seconds"] for f in per_file), nnz=total_nnz, per_file=per_file)


def centered_operator(x):
    """(X - 1 mu^T) as a LinearOperator: centering without a dense copy."""
    mu = np.asarray(x.mean(axis=0)).ravel()
    xt = x.T.tocsr()

    def matvec(v):
        v = np.ravel(v)
        return x @ v - mu @ v

    def rmatvec(u):
        u = np.ravel(u)
        return xt @ u - mu * u.sum()

    return LinearOperator(x.shape, matvec=matvec, rmatvec=rmatvec, dtype=np.float64)


def load_top_variance_genes(path, n_genes):
    """X restricted to the n_genes with the highest variance of the raw counts (ties keep file order),
    as float64 CSR, read in blocks so the full matrix is never in memory (setup, not timed)."""
    step = 20_000_000
    with h5py.File(path, "r") as f:
        x = f["X"]
        n_obs, n_vars = (int(v) for v in x.attrs["shape"])
        var_names = read_elem(f["var"]).index
        indptr = x["indptr"][:].astype(np.int64)
        total, total_sq = np.zeros(n_vars), np.zeros(n_vars)
        for start in range(0, int(indptr[-1]), step):
            columns = x["indices"][start:start + step]
            values = x["data"][start:start + step].astype(np.float64)
            total += np.bincount(columns, weights=values, minlength=n_vars)
            total_sq += np.bincount(columns, weights=values * values, minlength=n_vars)
        mean = total / n_obs
        variance = total_sq / n_obs - mean ** 2
        genes = np.sort(np.argsort(-variance, kind="stable")[: min(n_genes, n_vars)])
        blocks = []
        rows_per_block = 10_000
        for r0 in range(0, n_obs, rows_per_block):
            r1 = min(n_obs, r0 + rows_per_block)
            lo, hi = indptr[r0], indptr[r1]
            block = sp.csr_matrix((x["data"][lo:hi], x["indices"][lo:hi], indptr[r0:r1 + 1] - lo), shape=(r1 - r0, n_vars))
            blocks.append(block[:, genes].astype(np.float64))
    return sp.vstack(blocks, format="csr"), [str(g) for g in var_names[genes]]


def pca(path, n_genes, components, genes_out, scores_out, keep):
    sub, gene_ids = load_top_variance_genes(path, n_genes)
    with open(genes_out, "w") as fh:
        json.dump(gene_ids, fh)
    v0 = np.random.default_rng(0).standard_normal(min(sub.shape))

    t0 = time.perf_counter()
    operator = centered_operator(sub)
    u, s, _vt = svds(operator, k=components, v0=v0)
    descending = np.argsort(-s)
    scores = u[:, descending] * s[descending]
    seconds = time.perf_counter() - t0

    np.save(scores_out, np.ascontiguousarray(scores[:, :keep], dtype=np.float32))
    emit(seconds=seconds, n_obs=int(sub.shape[0]), n_genes=int(sub.shape[1]), nnz=int(sub.nnz),
         components=components, singular_values=[float(v) for v in s[descending][:keep]])


def file_bytes(files):
    per_file = []
    for path in files:
        with h5py.File(path, "r") as f:
            nnz = int(f["X"]["data"].shape[0])
        size = os.path.getsize(path)
        per_file.append(dict(file=os.path.basename(path), bytes=size, nnz=nnz, bytes_per_nnz=size / nnz))
    total = sum(f["bytes"] for f in per_file)
    nnz = sum(f["nnz"] for f in per_file)
    emit(seconds=0.0, bytes=total, nnz=nnz, bytes_per_nnz=total / nnz, per_file=per_file)


def de(path, group_cells, pvals_out, max_wilcoxon_genes):
    """B8: the group is the group_cells cells of highest pct_mito (the threshold is printed for our side's
    filter); counts per 10,000 + log1p per cell, then scipy's tests vectorised over dense column blocks.
    mannwhitneyu takes ~0.2 s per gene over 200,000 cells (over an hour for 20,000 genes), so past
    max_wilcoxon_genes it tests that many evenly spaced genes and scales its time to all of them."""
    t0 = time.perf_counter()
    adata = anndata.read_h5ad(path)
    x = sp.csr_matrix(adata.X, dtype=np.float64)
    t_read = time.perf_counter()
    pct = adata.obs["pct_mito"].to_numpy(dtype=np.float64)
    threshold = float(np.sort(pct)[::-1][group_cells])
    in_group = pct > threshold
    if int(in_group.sum()) != group_cells:
        sys.exit(f"pct_mito has ties at the threshold: {int(in_group.sum())} cells above it, not {group_cells}")
    total = np.asarray(x.sum(axis=1)).ravel()
    x.data = np.log1p(x.data * 1e4 / np.repeat(total, np.diff(x.indptr)))
    xc = x.tocsc()
    del x
    t_norm = time.perf_counter()
    n_obs, n_genes = xc.shape
    block = max(1, 25_000_000 // n_obs)  # about 200 MB of dense float64 per block
    timings, pvals, tested = {}, {}, {}
    names = np.array([str(g) for g in adata.var_names], dtype=object)
    for method in ("wilcoxon", "ttest"):
        genes = np.arange(n_genes)
        if method == "wilcoxon" and n_genes > max_wilcoxon_genes:
            genes = np.unique(np.linspace(0, n_genes - 1, max_wilcoxon_genes).round().astype(np.int64))
        t = time.perf_counter()
        p = np.empty(len(genes))
        for k0 in range(0, len(genes), block):
            dense = xc[:, genes[k0:k0 + block]].toarray()
            a, b = dense[in_group], dense[~in_group]
            if method == "wilcoxon":
                p[k0:k0 + block] = stats.mannwhitneyu(a, b, use_continuity=False, alternative="two-sided", method="asymptotic", axis=0).pvalue
            else:
                p[k0:k0 + block] = stats.ttest_ind(a, b, equal_var=False, axis=0).pvalue
        timings[method] = (time.perf_counter() - t) * n_genes / len(genes)
        tested[method] = int(len(genes))
        # Untestable genes (NaN) count as p = 1, as ours report them.
        pvals[method] = dict(zip(names[genes], np.where(np.isnan(p), 1.0, p).tolist()))
    with open(pvals_out, "w") as fh:
        json.dump(pvals, fh)
    prepare = t_norm - t0
    emit(seconds=prepare + timings["wilcoxon"], ttest_seconds=prepare + timings["ttest"], read_seconds=t_read - t0,
         normalise_seconds=t_norm - t_read, wilcoxon_test_seconds=timings["wilcoxon"], ttest_test_seconds=timings["ttest"],
         wilcoxon_genes_tested=tested["wilcoxon"], ttest_genes_tested=tested["ttest"],
         threshold=threshold, n_group=group_cells, n_rest=int(n_obs - group_cells), n_genes=int(n_genes))


def fuzzy_weights(knn_idx, knn_dist):
    """UMAP's fuzzy_simplicial_set (local_connectivity 1) in numpy: umap-learn is not in Debian."""
    n, k = knn_idx.shape
    dist = knn_dist.astype(np.float64)
    rho = np.array([row[row > 0][0] if (row > 0).any() else 0.0 for row in dist[:, 1:]])
    target = np.log2(k)
    lo, hi, sigma = np.zeros(n), np.full(n, np.inf), np.ones(n)
    for _ in range(64):
        d = dist[:, 1:] - rho[:, None]
        psum = np.where(d > 0, np.exp(-d / sigma[:, None]), 1.0).sum(axis=1)
        done = np.abs(psum - target) < 1e-5
        high = psum > target
        hi = np.where(high & ~done, sigma, hi)
        lo = np.where(~high & ~done, sigma, lo)
        sigma = np.where(done, sigma, np.where(np.isinf(hi), sigma * 2, (lo + hi) / 2))
    mean_all, mean_row = dist.mean(), dist.mean(axis=1)
    sigma = np.where(rho > 0, np.maximum(sigma, 1e-3 * mean_row), np.maximum(sigma, 1e-3 * mean_all))
    d = dist - rho[:, None]
    w = np.where(d <= 0, 1.0, np.exp(-d / sigma[:, None]))
    w[knn_idx == np.arange(n)[:, None]] = 0
    a = sp.csr_matrix((w.ravel(), (np.repeat(np.arange(n), k), knn_idx.ravel())), shape=(n, n))
    return a + a.T - a.multiply(a.T)


def graph(path, k, resolution, ours_membership):
    """B9: the kNN graph (pynndescent, its first call including numba's compile, as a user's first call does),
    UMAP's fuzzy weights, Leiden (leidenalg, RBConfiguration at the resolution)."""
    import igraph as ig
    import leidenalg
    import pynndescent
    from sklearn.metrics import adjusted_rand_score
    x = np.load(path).astype(np.float32)
    t0 = time.perf_counter()
    index = pynndescent.NNDescent(x, n_neighbors=k, random_state=0)
    knn_idx, knn_dist = index.neighbor_graph
    t1 = time.perf_counter()
    upper = sp.triu(fuzzy_weights(knn_idx, knn_dist), k=1).tocoo()
    g = ig.Graph(n=x.shape[0], edges=np.column_stack([upper.row, upper.col]).tolist(), directed=False)
    g.es["weight"] = upper.data
    part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight", resolution_parameter=resolution, n_iterations=-1, seed=0)
    t2 = time.perf_counter()
    fields = {"knn_seconds": t1 - t0, "leiden_seconds": t2 - t1, "n_clusters": len(set(part.membership))}
    # How determined the partition is: leidenalg against itself with another seed, on its own graph.
    other = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight", resolution_parameter=resolution, n_iterations=-1, seed=1)
    fields["ari_with_itself_seed1"] = float(adjusted_rand_score(part.membership, other.membership))
    if ours_membership:
        fields["ari_with_ours"] = float(adjusted_rand_score(part.membership, np.fromfile(ours_membership, dtype=np.int32)))
    emit(seconds=t2 - t0, **fields)


def main():
    parser = argparse.ArgumentParser(description="SPEC §8 peer benchmarks (anndata 0.8 / scipy)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("concat", "concat5"):
        p = sub.add_parser(name)
        p.add_argument("--out", required=True)
        p.add_argument("files", nargs="+")
    p = sub.add_parser("backed_open")
    p.add_argument("file")
    p = sub.add_parser("obs_filter")
    p.add_argument("file")
    p.add_argument("--repeats", type=int, default=21)
    p.add_argument("--cell-types", required=True, help="comma-separated")
    p.add_argument("--pct-mito-below", type=float, required=True)
    p = sub.add_parser("rows")
    p.add_argument("file")
    p.add_argument("--cells", required=True, help="JSON list of lists of sorted row numbers")
    p.add_argument("--repeats", type=int, default=3)
    p = sub.add_parser("cols")
    p.add_argument("--genes", required=True, help="comma-separated var ids")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("pca")
    p.add_argument("file")
    p.add_argument("--n-genes", type=int, default=2000)
    p.add_argument("--components", type=int, default=50)
    p.add_argument("--keep", type=int, default=10, help="leading PC scores saved for the accuracy check")
    p.add_argument("--genes-out", required=True)
    p.add_argument("--scores-out", required=True)
    p = sub.add_parser("bytes")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("de")
    p.add_argument("file")
    p.add_argument("--group-cells", type=int, required=True)
    p.add_argument("--pvals-out", required=True)
    p.add_argument("--max-wilcoxon-genes", type=int, default=2000, help="test this many genes and scale the time (mannwhitneyu is slow)")
    p = sub.add_parser("graph")
    p.add_argument("file")
    p.add_argument("--k", type=int, default=15)
    p.add_argument("--resolution", type=float, default=1.0)
    p.add_argument("--ours-membership")
    args = parser.parse_args()

    if args.command == "concat":
        concat(args.files, args.out, join="inner")
    elif args.command == "concat5":
        # The append file brings new genes; an outer join keeps them, as the store's append does.
        concat(args.files, args.out, join="outer")
    elif args.command == "backed_open":
        backed_open(args.file)
    elif args.command == "obs_filter":
        obs_filter(args.file, args.repeats, args.cell_types.split(","), args.pct_mito_below)
    elif args.command == "rows":
        rows(args.file, args.cells, args.repeats)
    elif args.command == "cols":
        cols(args.files, args.genes.split(","))
    elif args.command == "graph":
        graph(args.file, args.k, args.resolution, args.ours_membership)
    elif args.command == "pca":
        pca(args.file, args.n_genes, args.components, args.genes_out, args.scores_out, args.keep)
    elif args.command == "bytes":
        file_bytes(args.files)
    elif args.command == "de":
        de(args.file, args.group_cells, args.pvals_out, args.max_wilcoxon_genes)
    else:
        sys.exit(f"unknown command {args.command}")


if __name__ == "__main__":
    main()
