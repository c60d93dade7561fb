// Test page for the plot components: ?view=scatter&n=…&colors=category|numeric|none, or ?view=lineage.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { LineageGraph } from '../../../src/renderer/src/components/LineageGraph';
import { ScatterPlot } from '../../../src/renderer/src/components/ScatterPlot';
import type { ScatterColors } from '../../../src/renderer/src/components/scatter-colors';
import type { Lineage, LineageNode } from '../../../src/shared/registry-types';

const params = new URLSearchParams(location.search);

/** Deterministic uniform numbers in [0, 1), so screenshots repeat run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n cells in 30 Gaussian clusters, 1% without a type, and a gene whose expression varies by cluster. */
function syntheticEmbedding(n: number) {
  const random = seededRandom(7);
  const nClusters = 30;
  const centres = Array.from({ length: nClusters }, () => [random() * 40 - 20, random() * 30 - 15, 0.4 + random() * 1.6] as const);
  const points = new Float32Array(n * 2);
  const codes = new Int32Array(n);
  const values = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const cluster = Math.floor(random() * nClusters);
    const [cx, cy, spread] = centres[cluster]!;
    const radius = Math.sqrt(-2 * Math.log(1 - random())) * spread;
    const angle = 2 * Math.PI * random();
    points[2 * i] = cx + radius * Math.cos(angle);
    points[2 * i + 1] = cy + radius * Math.sin(angle);
    codes[i] = random() < 0.01 ? -1 : cluster;
    const value = random() < 0.005 ? Number.NaN : (cluster % 7) * 0.8 + radius * 0.5 + random();
    values[i] = value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const categories = Array.from({ length: nClusters }, (_, k) => `cell type ${k + 1}`);
  return { points, category: { kind: 'category', codes, categories } as ScatterColors, numeric: { kind: 'numeric', values, min, max } as ScatterColors };
}

const sampleLineage: Lineage = {
  nodes: [
    { id: 'art-a', kind: 'artifact', label: 'donor-a.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'art-b', kind: 'artifact', label: 'donor-b.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'art-old', kind: 'artifact', label: 'pbmc_10k_v3_filtered_feature_bc_matrix.h5ad (deleted)', deleted: true, artifactKind: 'h5ad' },
    { id: 'art-c', kind: 'artifact', label: 'donor-c.h5ad', deleted: false, artifactKind: 'h5ad' },
    { id: 'coll', kind: 'collection', label: 'pbmc-collection', deleted: false },
    { id: 'run-concat', kind: 'run', label: 'concatenate', deleted: false, status: 'completed' },
    { id: 'store-1', kind: 'artifact', label: 'pbmc v1 (deleted)', deleted: true, artifactKind: 'store' },
    { id: 'run-append', kind: 'run', label: 'append', deleted: false, status: 'completed' },
    { id: 'store-2', kind: 'artifact', label: 'pbmc v2', deleted: false, artifactKind: 'store' },
    { id: 'run-embed', kind: 'run', label: 'embed (failed)', deleted: false, status: 'failed' },
    { id: 'run-export', kind: 'run', label: 'export (running)', deleted: false, status: 'running' },
  ],
  edges: [
    { from: 'art-a', to: 'coll', relation: 'member' },
    { from: 'art-b', to: 'coll', relation: 'member' },
    { from: 'art-old', to: 'coll', relation: 'member' },
    { from: 'coll', to: 'run-concat', relation: 'input' },
    { from: 'run-concat', to: 'store-1', relation: 'output' },
    { from: 'store-1', to: 'run-append', relation: 'input' },
    { from: 'art-c', to: 'run-append', relation: 'input' },
    { from: 'run-append', to: 'store-2', relation: 'output' },
    { from: 'store-2', to: 'run-embed', relation: 'input' },
    { from: 'store-2', to: 'run-export', relation: 'input' },
  ],
};

function LineageView() {
  const [opened, setOpened] = useState<LineageNode | null>(null);
  return (
    <>
      <LineageGraph lineage={sampleLineage} onOpen={setOpened} height={360} />
      <p>
        Opened: <output data-testid="opened">{opened ? opened.id : ''}</output>
      </p>
    </>
  );
}

function ScatterView() {
  const n = Number(params.get('n') ?? 1000);
  const [data] = useState(() => syntheticEmbedding(n));
  const colorMode = params.get('colors') ?? 'category';
  const colors = colorMode === 'numeric' ? data.numeric : colorMode === 'none' ? null : data.category;
  const pointSize = params.has('pointSize') ? Number(params.get('pointSize')) : undefined;
  // ?drawing=points|image forces one way of drawing; by default the plot picks (image on software WebGL).
  const drawing = (params.get('drawing') ?? 'auto') as 'auto' | 'points' | 'image';
  const [selection, setSelection] = useState<Uint8Array | null>(null);
  // The test reads the points back to count, its own way, what a lasso should select.
  (window as unknown as { scatterPoints: Float32Array }).scatterPoints = data.points;
  if (!params.has('select')) return <ScatterPlot points={data.points} colors={colors} height={480} pointSize={pointSize} drawing={drawing} />;
  return (
    <ScatterPlot
      points={data.points}
      colors={colors}
      height={480}
      pointSize={pointSize}
      drawing={drawing}
      selection={selection}
      onSelectionChange={(mask) => setSelection(mask)}
      renderTooltip={(index) => <span data-testid="hovered">point {index}</span>}
      xLabel="x"
      yLabel="y"
    />
  );
}

const root = document.getElementById('root')!;
createRoot(root).render(<StrictMode>{params.get('view') === 'lineage' ? <LineageView /> : <ScatterView />}</StrictMode>);
