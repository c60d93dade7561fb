#!/usr/bin/python3
"""Generate the benchmark data of SPEC §8: four h5ad files for concatenation and a fifth for append.

Run with Debian's Python (it has anndata 0.8, h5py, numpy):
    /usr/bin/python3 tests/bench/generate.py [--scale S] [--out DIR] [--gzip]
    /usr/bin/python3 tests/bench/generate.py --files N --cells-per-file C [--genes G] [--no-append] --out DIR

At scale 1 each file is 50,000 cells x 20,000 genes with ~1,500 non-zeros per cell
(float32 integer counts, 30 cell types with their own highly expressed gene programs).
Cells scale by S and genes by sqrt(S) (floor 2,000 so the PCA benchmark always has
2,000 genes); non-zeros per cell keep the 7.5% density, so total non-zeros scale as S^1.5.

X is built one block of cells at a time with vectorised numpy and streamed into
resizable chunked HDF5 datasets, the layout anndata 0.8's write_h5ad gives an
uncompressed CSR matrix, so memory stays at one block (well under 1 GB at scale 1).
Everything is seeded: the same scale gives byte-identical data.
--files / --cells-per-file / --genes make other shapes from the same generator (the scale rows
E4 and E5: ten 100,000-cell files, or one file over 2 GiB), with ~1,500 non-zeros per cell at
20,000 genes as at scale 1.
Files are not regenerated when they exist with a matching params.json.
"""
import argparse
import json
import math
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd
from anndata.experimental import write_elem
from h5py._hl.filters import guess_chunk

GENERATOR_VERSION = 1
BASE_CELLS = 50_000
BASE_GENES = 20_000
BASE_NNZ_PER_CELL = 1_500
MIN_GENES = 2_000
N_CELL_TYPES = 30
N_CONCAT_FILES = 4
DONORS_PER_FILE = 4
NEW_GENE_FRACTION = 0.05  # the append file brings 5% new genes and one new cell type
BLOCK_CELLS = 2_000
SEED = 20240611
PROGRAM_DRAW_FRACTION = 0.25  # share of a cell's gene draws taken from its type's program
INVERSE_CDF_SIZE = 1 << 22


def gene_id(position):
    return f"ENSG{position + 1:011d}"


def shapes_for(scale, cells_per_file=None, genes=None):
    n_cells = cells_per_file or max(100, int(round(BASE_CELLS * scale)))
    n_genes = genes or max(MIN_GENES, int(round(BASE_GENES * math.sqrt(scale))))
    nnz_per_cell = int(round(BASE_NNZ_PER_CELL * n_genes / BASE_GENES))
    n_new_genes = int(round(n_genes * NEW_GENE_FRACTION))
    return dict(n_cells=n_cells, n_genes=n_genes, nnz_per_cell=nnz_per_cell, n_new_genes=n_new_genes)


class Universe:
    """Genes, cell types and their programs shared by every file (the append file adds to them)."""

    def __init__(self, n_genes, n_new_genes, nnz_per_cell):
        rng = np.random.default_rng([SEED, 0])
        self.n_genes_all = n_genes + n_new_genes
        self.nnz_per_cell = nnz_per_cell
        # Background detection weights: a few genes are seen in most cells, most are rare.
        self.background_weight = rng.lognormal(0.0, 1.3, size=self.n_genes_all)
        self.background_mean = 0.3 + 2.0 * self.background_weight / self.background_weight.max()
        n_types = N_CELL_TYPES + 1
        program_size = max(20, int(round(n_genes * 0.01)))
        self.programs = np.empty((n_types, program_size), dtype=np.int64)
        for t in range(N_CELL_TYPES):
            self.programs[t] = rng.choice(n_genes, size=program_size, replace=False)
        # The append file's new type draws half its program from the new genes.
        half = program_size // 2
        self.programs[N_CELL_TYPES, :half] = rng.choice(np.arange(n_genes, self.n_genes_all), size=half, replace=n_new_genes < half)
        self.programs[N_CELL_TYPES, half:] = rng.choice(n_genes, size=program_size - half, replace=False)
        self.type_share = rng.dirichlet(np.full(N_CELL_TYPES, 4.0))
        # A type's variance grows with share x strength^2; spacing that geometrically (ratio 0.8,
        # in a random type order) keeps the top principal components well apart for the B6 accuracy check.
        rank = rng.permutation(N_CELL_TYPES)
        strength = np.sqrt(0.8 ** rank / self.type_share)
        strength = np.clip(30.0 * strength / strength.max(), 1.5, None)
        self.program_strength = np.append(strength, 12.0)  # the append file's new type
        program_gene_effect = rng.lognormal(0.0, 0.5, size=self.programs.shape)
        # types x genes table of program effects (0 = not in the type's program); small: 31 x genes.
        self.program_effect_table = np.zeros((n_types, self.n_genes_all), dtype=np.float32)
        for t in range(n_types):
            self.program_effect_table[t, self.programs[t]] = program_gene_effect[t]
        self.type_names = np.array([f"ct_{t:02d}" for t in range(n_types)], dtype=object)
        self._inverse_cdfs = {}
        self._draw_tables = {}
        self.gene_ids = np.array([gene_id(g) for g in range(self.n_genes_all)], dtype=object)
        self.gene_symbols = np.array([f"GENE{g + 1}" for g in range(self.n_genes_all)], dtype=object)

    def gene_probabilities(self, n_genes_file):
        """Per type, the probability that one draw picks each gene (background mixed with the type's program)."""
        background = self.background_weight[:n_genes_file] / self.background_weight[:n_genes_file].sum()
        probabilities = np.tile((1.0 - PROGRAM_DRAW_FRACTION) * background, (self.programs.shape[0], 1))
        for t in range(self.programs.shape[0]):
            np.add.at(probabilities[t], self.programs[t][self.programs[t] < n_genes_file],
                      PROGRAM_DRAW_FRACTION / self.programs.shape[1])
        return probabilities

    def background_inverse_cdf(self, n_genes_file):
        """A 2^22-entry table mapping a uniform draw to a gene: one gather instead of a binary search per draw."""
        if n_genes_file not in self._inverse_cdfs:
            cdf = np.cumsum(self.background_weight[:n_genes_file])
            cdf /= cdf[-1]
            buckets = (np.arange(INVERSE_CDF_SIZE) + 0.5) / INVERSE_CDF_SIZE
            table = np.searchsorted(cdf, buckets, side="right")
            self._inverse_cdfs[n_genes_file] = np.minimum(table, n_genes_file - 1).astype(np.int32)
        return self._inverse_cdfs[n_genes_file]

    def draws_for(self, types, target_distinct, n_genes_file):
        """How many draws with replacement give `target_distinct` distinct genes on average, per cell."""
        if n_genes_file not in self._draw_tables:
            probabilities = self.gene_probabilities(n_genes_file)
            grid = np.geomspace(1, 20 * self.nnz_per_cell, 200)
            # E[distinct] after m draws = sum over genes of 1 - (1 - p)^m
            distinct = np.stack([(1.0 - np.power(1.0 - p[None, :], grid[:, None])).sum(axis=1) for p in probabilities])
            self._draw_tables[n_genes_file] = (grid, distinct)
        grid, distinct = self._draw_tables[n_genes_file]
        out = np.empty(types.shape[0])
        for t in np.unique(types):
            members = types == t
            out[members] = np.interp(target_distinct[members], distinct[t], grid)
        return out


def barcodes(n, file_index):
    """Distinct 16-base barcodes: an odd multiplier is a bijection modulo 4^16, so no two cells collide."""
    offset = np.uint64(12345 + 7919 * 4 ** 9 * file_index)
    codes = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761) + offset) % np.uint64(4 ** 16)
    letters = np.array(list("ACGT"))
    digits = np.empty((n, 16), dtype="<U1")
    for position in range(16):
        digits[:, 15 - position] = letters[((codes >> np.uint64(2 * position)) & np.uint64(3)).astype(np.int64)]
    return np.array(["".join(row) + f"-{file_index + 1}" for row in digits], dtype=object)


def make_block(universe, rng, types, library, n_genes_file):
    """CSR pieces (indptr counts, indices, data) for one block of cells, rows sorted by gene."""
    n_rows = types.shape[0]
    target = universe.nnz_per_cell * np.sqrt(library)
    # Draw with replacement, then deduplicate; draw as many as give `target` distinct genes on average.
    draws = np.maximum(1, np.round(universe.draws_for(types, target, n_genes_file))).astype(np.int64)
    row_of_draw = np.repeat(np.arange(n_rows), draws)
    n_draws = row_of_draw.shape[0]
    from_program = rng.random(n_draws) < PROGRAM_DRAW_FRACTION
    inverse_cdf = universe.background_inverse_cdf(n_genes_file)
    genes = inverse_cdf[(rng.random(n_draws) * inverse_cdf.shape[0]).astype(np.int64)]
    program_slot = rng.integers(0, universe.programs.shape[1], size=n_draws)
    program_genes = universe.programs[types[row_of_draw], program_slot]
    genes = np.where(from_program, program_genes, genes)
    keys = np.unique(row_of_draw * universe.n_genes_all + genes)
    rows = keys // universe.n_genes_all
    cols = (keys - rows * universe.n_genes_all).astype(np.int32)
    # Expression: program genes of the cell's own type are high, everything else is low.
    mean = universe.background_mean[cols]
    cell_type = types[rows]
    effect = universe.program_effect_table[cell_type, cols]
    in_program = effect > 0
    mean = np.where(in_program, universe.program_strength[cell_type] * effect, mean) * library[rows]
    data = (1 + rng.poisson(mean)).astype(np.float32)
    counts = np.bincount(rows, minlength=n_rows)
    return counts, cols, data


def write_file(path, universe, file_index, n_cells, n_genes_file, type_ids):
    rng = np.random.default_rng([SEED, 1, file_index])
    types = rng.choice(N_CELL_TYPES, size=n_cells, p=universe.type_share)
    if N_CELL_TYPES in type_ids:
        # The append file: 10% of its cells are the new type.
        types = np.where(rng.random(n_cells) < 0.1, N_CELL_TYPES, types)
    library = rng.lognormal(0.0, 0.35, size=n_cells)
    donors = rng.integers(0, DONORS_PER_FILE, size=n_cells)
    pct_mito = rng.beta(2.0, 30.0, size=n_cells) * 100.0
    expected_nnz = int(n_cells * universe.nnz_per_cell)
    chunk = guess_chunk((max(expected_nnz, 1),), (None,), 4)
    tmp_path = path + ".partial"
    total_counts = np.zeros(n_cells, dtype=np.float32)
    with h5py.File(tmp_path, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        x = f.create_group("X")
        x.attrs["encoding-type"] = "csr_matrix"
        x.attrs["encoding-version"] = "0.1.0"
        x.attrs["shape"] = np.array([n_cells, n_genes_file], dtype=np.int64)
        # Resizable, chunked like anndata's own writer (it passes maxshape=(None,)).
        data_ds = x.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32, chunks=chunk)
        indices_ds = x.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32, chunks=chunk)
        indptr = np.zeros(n_cells + 1, dtype=np.int64)
        written = 0
        for start in range(0, n_cells, BLOCK_CELLS):
            stop = min(n_cells, start + BLOCK_CELLS)
            block_rng = np.random.default_rng([SEED, 2, file_index, start])
            counts, cols, data = make_block(universe, block_rng, types[start:stop], library[start:stop], n_genes_file)
            n = cols.shape[0]
            data_ds.resize((written + n,))
            indices_ds.resize((written + n,))
            data_ds[written:written + n] = data
            indices_ds[written:written + n] = cols
            indptr[start + 1:stop + 1] = written + np.cumsum(counts)
            row_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            total_counts[start:stop] = np.add.reduceat(data, row_starts) if n else 0
            written += n
        # scipy (and so anndata) keeps int32 index arrays while nnz fits.
        indptr_dtype = np.int32 if written < 2 ** 31 else np.int64
        x.create_dataset("indptr", data=indptr.astype(indptr_dtype), maxshape=(None,))

        obs = pd.DataFrame(
            {
                "cell_type": pd.Categorical.from_codes(types, categories=list(universe.type_names[: max(type_ids) + 1])),
                "donor": pd.Categorical([f"donor_{file_index + 1}_{d}" for d in range(DONORS_PER_FILE)])[donors],
                "total_counts": total_counts,
                "pct_mito": pct_mito,
            },
            index=pd.Index(barcodes(n_cells, file_index)),
        )
        var = pd.DataFrame(
            {"gene_symbol": universe.gene_symbols[:n_genes_file]},
            index=pd.Index(universe.gene_ids[:n_genes_file]),
        )
        write_elem(f, "obs", obs)
        write_elem(f, "var", var)
        for key in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            write_elem(f, key, {})
    os.replace(tmp_path, path)
    return written


def copy_gzip(src_path, dst_path):
    """A gzip-compressed copy, as write_h5ad(compression='gzip') would make: every array dataset compressed."""
    step = 4_000_000
    tmp_path = dst_path + ".partial"
    with h5py.File(src_path, "r") as src, h5py.File(tmp_path, "w") as dst:
        def copy_attrs(a, b):
            for k, v in a.attrs.items():
                b.attrs[k] = v

        def copy_group(g_src, g_dst):
            copy_attrs(g_src, g_dst)
            for name, item in g_src.items():
                if isinstance(item, h5py.Group):
                    copy_group(item, g_dst.create_group(name))
                elif item.shape == () or item.size == 0:
                    g_dst.create_dataset(name, data=item[()])
                    copy_attrs(item, g_dst[name])
                else:
                    out = g_dst.create_dataset(name, shape=item.shape, dtype=item.dtype, maxshape=(None,) * item.ndim,
                                               chunks=True, compression="gzip")
                    for i in range(0, item.shape[0], step):
                        out[i:i + step] = item[i:i + step]
                    copy_attrs(item, out)

        copy_group(src, dst)
    os.replace(tmp_path, dst_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", default=None, help="default: bench-data/scale-<S> at the repository root")
    parser.add_argument("--gzip", action="store_true", help="also write gzip-compressed copies of the 4 concatenation inputs")
    parser.add_argument("--files", type=int, default=N_CONCAT_FILES, help="files to concatenate (default 4)")
    parser.add_argument("--cells-per-file", type=int, default=None, help="cells in each file (default: 50,000 x scale)")
    parser.add_argument("--genes", type=int, default=None, help="genes (default: 20,000 x sqrt(scale))")
    parser.add_argument("--no-append", action="store_true", help="no fifth file for append")
    args = parser.parse_args()
    if not args.scale > 0:
        sys.exit("--scale must be > 0")
    if args.files < 1 or (args.cells_per_file is not None and args.cells_per_file < 100) or (args.genes is not None and args.genes < MIN_GENES):
        sys.exit(f"--files must be >= 1, --cells-per-file >= 100 and --genes >= {MIN_GENES}")
    custom = args.files != N_CONCAT_FILES or args.cells_per_file is not None or args.genes is not None or args.no_append
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = args.out or os.path.join(repo_root, "bench-data", f"scale-{args.scale:g}")
    os.makedirs(out, exist_ok=True)

    shapes = shapes_for(args.scale, args.cells_per_file, args.genes)
    params = dict(generator_version=GENERATOR_VERSION, seed=SEED, scale=args.scale, n_cell_types=N_CELL_TYPES, **shapes)
    if custom:
        # Only other shapes record these, so data made before they existed stays up to date.
        params.update(n_files=args.files, append=not args.no_append)
    concat_names = [f"cells_{i + 1}.h5ad" for i in range(args.files)]
    append_name = None if args.no_append else f"append_{args.files + 1}.h5ad"
    params["concat_files"] = concat_names
    params["append_file"] = append_name
    params["gzip_files"] = [os.path.join("gzip", n) for n in concat_names]
    # B5 reads these 10 genes: evenly spaced over the genes every file has.
    n = shapes["n_genes"]
    params["b5_genes"] = [gene_id((i * n) // 10 + n // 20) for i in range(10)]
    params_path = os.path.join(out, "params.json")

    all_plain = [os.path.join(out, n) for n in concat_names + ([append_name] if append_name else [])]
    previous = None
    if os.path.exists(params_path):
        with open(params_path) as fh:
            previous = json.load(fh)
    fresh = previous is not None and {k: v for k, v in previous.items() if k != "nnz"} == params and all(os.path.exists(p) for p in all_plain)

    started = time.time()
    if fresh:
        params["nnz"] = previous["nnz"]
        print(f"data in {out} is up to date (params.json matches)", file=sys.stderr)
    else:
        if os.path.exists(params_path):
            os.remove(params_path)
        universe = Universe(shapes["n_genes"], shapes["n_new_genes"], shapes["nnz_per_cell"])
        nnz = {}
        base_types = list(range(N_CELL_TYPES))
        for i, name in enumerate(concat_names):
            t0 = time.time()
            nnz[name] = write_file(os.path.join(out, name), universe, i, shapes["n_cells"], shapes["n_genes"], base_types)
            print(f"wrote {name}: {nnz[name]:,} non-zeros in {time.time() - t0:.1f} s", file=sys.stderr)
        if append_name:
            t0 = time.time()
            nnz[append_name] = write_file(os.path.join(out, append_name), universe, args.files, shapes["n_cells"],
                                          shapes["n_genes"] + shapes["n_new_genes"], base_types + [N_CELL_TYPES])
            print(f"wrote {append_name}: {nnz[append_name]:,} non-zeros in {time.time() - t0:.1f} s", file=sys.stderr)
        params["nnz"] = nnz
        for stale in params["gzip_files"]:
            if os.path.exists(os.path.join(out, stale)):
                os.remove(os.path.join(out, stale))
        with open(params_path, "w") as fh:
            json.dump(params, fh, indent=2)

    if args.gzip:
        os.makedirs(os.path.join(out, "gzip"), exist_ok=True)
        for name, gz in zip(concat_names, params["gzip_files"]):
            if not os.path.exists(os.path.join(out, gz)):
                t0 = time.time()
                copy_gzip(os.path.join(out, name), os.path.join(out, gz))
                print(f"wrote {gz} in {time.time() - t0:.1f} s", file=sys.stderr)

    print(json.dumps(dict(out=out, seconds=round(time.time() - started, 2), **params)))


if __name__ == "__main__":
    main()
