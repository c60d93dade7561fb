// The lineage of an artifact or collection as a left-to-right DAG (input → run → output).
// Clicking a node selects it (the screen shows its details); the same nodes are buttons in a
// list for keyboard users.
import cytoscape, { type Core } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { useEffect, useMemo, useRef, useState, type JSX } from 'react';
import type { Lineage, LineageNode } from '../../../shared/registry-types';
import { describeLineageNode, lineageElements, lineageListOrder } from './lineage-elements';
import { LINEAGE_COLORS, LINEAGE_STYLE } from './lineage-style';
import './components.css';

cytoscape.use(dagre);

export interface LineageGraphProps {
  lineage: Lineage;
  onOpen(node: LineageNode): void;
  /** CSS pixels for the graph; the list below it adds its own height. */
  height?: number;
}

/** Small graphs are not blown up to fill the box: their labels would look shouted. */
const MAX_FIT_ZOOM = 1.25;
const FIT_PADDING = 24;
// Below this zoom the labels cannot be read: a long lineage opens at this zoom on its downstream
// end (the newest items, on the right) and is panned by dragging; "Fit graph" shows all of it.
const MIN_READABLE_ZOOM = 0.6;

const KEY: Array<{ label: string; colors: { fill: string; border: string }; className: string }> = [
  { label: 'h5ad file', colors: LINEAGE_COLORS.h5ad, className: 'box' },
  { label: 'array store', colors: LINEAGE_COLORS.store, className: 'barrel' },
  { label: 'collection', colors: LINEAGE_COLORS.collection, className: 'double' },
  { label: 'run', colors: LINEAGE_COLORS.completed, className: 'ellipse' },
  { label: 'failed run', colors: LINEAGE_COLORS.failed, className: 'ellipse' },
  { label: 'cancelled run', colors: LINEAGE_COLORS.cancelled, className: 'ellipse' },
  { label: 'export', colors: LINEAGE_COLORS.export, className: 'box' },
  { label: 'embedding', colors: LINEAGE_COLORS.embedding, className: 'box' },
  { label: 'deleted', colors: LINEAGE_COLORS.deleted, className: 'box dashed' },
];

export function LineageGraph({ lineage, onOpen, height = 420 }: LineageGraphProps): JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const onOpenRef = useRef(onOpen);
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const ordered = useMemo(() => lineageListOrder(lineage), [lineage]);
  // Lineages are small; keying on their content keeps the layout (and the user's zoom) when a
  // parent re-renders with an equal but new object.
  const lineageKey = useMemo(() => JSON.stringify(lineage), [lineage]);
  const latestLineage = useRef(lineage);
  useEffect(() => {
    latestLineage.current = lineage;
  }, [lineage]);

  useEffect(() => {
    onOpenRef.current = onOpen;
  }, [onOpen]);

  useEffect(() => {
    const container = containerRef.current;
    const lineage = latestLineage.current;
    if (!container || lineage.nodes.length === 0) return;
    const byId = new Map(lineage.nodes.map((node) => [node.id, node]));
    const cy = cytoscape({
      container,
      elements: lineageElements(lineage),
      style: LINEAGE_STYLE,
      layout: { name: 'dagre', rankDir: 'LR', nodeSep: 20, rankSep: 48, edgeSep: 12, fit: false } as cytoscape.LayoutOptions,
      minZoom: 0.1,
      maxZoom: 4,
      autoungrabify: true,
      boxSelectionEnabled: false,
    });
    cyRef.current = cy;
    const showZoom = () => (container.dataset.zoom = cy.zoom().toFixed(2));
    cy.on('zoom', showZoom);
    showReadable(cy);
    showZoom();
    cy.on('tap', 'node', (event) => {
      const node = byId.get(event.target.id() as string);
      if (!node) return;
      setHighlighted(node.id);
      onOpenRef.current(node);
    });
    cy.on('mouseover', 'node', () => container.classList.add('pointing'));
    cy.on('mouseout', 'node', () => container.classList.remove('pointing'));
    const resizeObserver = new ResizeObserver(() => {
      cy.resize();
      showReadable(cy);
    });
    resizeObserver.observe(container);
    container.dataset.ready = 'true';
    return () => {
      resizeObserver.disconnect();
      delete container.dataset.ready;
      delete container.dataset.zoom;
      cyRef.current = null;
      cy.destroy();
    };
  }, [lineageKey]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.nodes('.highlighted').removeClass('highlighted');
    if (highlighted) cy.getElementById(highlighted).addClass('highlighted');
  }, [highlighted, lineageKey]);

  if (lineage.nodes.length === 0) {
    return <p className="cellar-lineage-empty">No lineage recorded for this item.</p>;
  }
  return (
    <div className="cellar-lineage">
      <div className="cellar-lineage-toolbar">
        <button type="button" onClick={() => cyRef.current && fitGraph(cyRef.current)}>Fit graph</button>
        <ul className="cellar-lineage-key" aria-label="Key">
          {KEY.map((entry) => (
            <li key={entry.label}>
              <span className={`cellar-key-shape ${entry.className}`} style={{ background: entry.colors.fill, borderColor: entry.colors.border }} aria-hidden="true" />
              {entry.label}
            </li>
          ))}
        </ul>
      </div>
      <div
        ref={containerRef}
        className="cellar-lineage-canvas"
        style={{ height }}
        role="img"
        aria-label={`Lineage graph of ${lineage.nodes.length} items and ${lineage.edges.length} links; the list below opens each item.`}
        data-testid="lineage-canvas"
      />
      <nav className="cellar-lineage-nodes" aria-label="Lineage items, upstream first">
        <ol>
          {ordered.map((node) => (
            <li key={node.id}>
              <button
                type="button"
                className={[node.deleted ? 'deleted' : '', highlighted === node.id ? 'highlighted' : ''].join(' ').trim() || undefined}
                data-node-id={node.id}
                onClick={() => {
                  setHighlighted(node.id);
                  onOpen(node);
                }}
                onFocus={() => setHighlighted(node.id)}
                onMouseEnter={() => setHighlighted(node.id)}
              >
                <span className="cellar-lineage-label">{node.label}</span>
                <span className="cellar-lineage-kind">{describeLineageNode(node)}</span>
                {node.message && node.artifactKind === 'store' && <span className="cellar-lineage-message">{node.message}</span>}
              </button>
            </li>
          ))}
        </ol>
      </nav>
    </div>
  );
}

/** The whole graph when it is readable that way, else its downstream end at a readable zoom. */
function showReadable(cy: Core): void {
  fitGraph(cy);
  if (cy.zoom() >= MIN_READABLE_ZOOM) return;
  cy.zoom(MIN_READABLE_ZOOM);
  const box = cy.elements().boundingBox();
  const zoom = cy.zoom();
  cy.pan({ x: cy.width() - FIT_PADDING - box.x2 * zoom, y: cy.height() / 2 - ((box.y1 + box.y2) / 2) * zoom });
}

function fitGraph(cy: Core): void {
  cy.fit(undefined, FIT_PADDING);
  if (cy.zoom() > MAX_FIT_ZOOM) {
    cy.zoom(MAX_FIT_ZOOM);
    cy.center();
  }
}
