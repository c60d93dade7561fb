// A WebGL scatter plot for embeddings (a million points and more): drag to pan, wheel to
// zoom, double-click to fit; lasso or box selection (shift adds, alt takes away); the
// point under the pointer described in a tooltip; colour by category or by a numeric value,
// with a legend whose categories can be hidden or isolated.
import { useEffect, useId, useMemo, useRef, useState, type JSX, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent, type ReactNode } from 'react';
import { categoryColor, categoryCounts, colorBuffer, colorIdentity, formatLegendNumber, MISSING_COLOR, viridisGradient, type ScatterColors } from './scatter-colors';
import { createScatterGl, type ScatterDrawing, type ScatterGl } from './scatter-gl';
import { createHitTester, type HitShape, type HitTester } from './scatter-hit-test';
import type { Emphasis } from './scatter-raster';
import { boxPolygon, buildPointGrid, combineSelection, countSelected, nearestPoint, type PointGrid, type SelectionMode } from './scatter-selection';
import { computeBounds, defaultPointSize, fitView, panView, zoomView, type View } from './scatter-view';
import './components.css';
import { formatCount } from '../../../shared/format-number';
import { compareNatural } from '../../../shared/natural-sort';

export interface ScatterPlotProps {
  /** n×2 interleaved x,y. */
  points: Float32Array;
  colors: ScatterColors;
  /** CSS pixels; the width follows the container. */
  height?: number;
  /** Point diameter in CSS pixels; by default it shrinks as n grows. */
  pointSize?: number;
  /** Per point, 1 when selected; null when nothing is. */
  selection?: Uint8Array | null;
  /** A lasso or box ended (or the selection was cleared: null); `drawn` is the shape in data coordinates. */
  onSelectionChange?(selection: Uint8Array | null, drawn: DrawnShape | null): void;
  /** What the tooltip says about the point under the pointer. */
  renderTooltip?(index: number): ReactNode;
  xLabel?: string;
  yLabel?: string;
  /** A line under the colour bar saying what its values are. */
  colorNote?: string;
  /** How points are drawn: by default point sprites on a GPU and on the CPU when WebGL is software. */
  drawing?: ScatterDrawing | 'auto';
}

/** The shape a selection was drawn with, as flat x,y pairs in data coordinates. */
export interface DrawnShape {
  kind: 'lasso' | 'box';
  polygon: number[];
  mode: SelectionMode;
}

type Tool = 'pan' | 'lasso' | 'box';

type GlStatus = 'starting' | 'ready' | 'unavailable' | 'lost';

/** Legends list at most this many categories; the rest are summarised in one line. */
const LEGEND_LIMIT = 200;
const BUTTON_ZOOM = 1.5;
/** Arrow keys move the view by this fraction of its size. */
const KEY_PAN_STEP = 0.1;

export function ScatterPlot({ points, colors, height = 480, pointSize, selection = null, onSelectionChange, renderTooltip, xLabel, yLabel, colorNote, drawing = 'auto' }: ScatterPlotProps): JSX.Element {
  const n = points.length >> 1;
  const home = useMemo(() => fitView(computeBounds(points)), [points]);
  const [colorData, colorLow, colorHigh] = colorIdentity(colors);
  // Keyed on what the colours depend on (see colorIdentity), not on the wrapping object.
  const baseRgba = useMemo(() => colorBuffer(colors, n), [colorData, colorLow, colorHigh, n]);
  // Hidden category codes (-1: the missing ones); new colours start with everything shown.
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  useEffect(() => setHidden(new Set()), [colorData]);
  const visible = useMemo(() => visibleMask(colors, hidden, n), [colorData, hidden, n]);
  // Applied by the renderer: on the CPU while drawing, for point sprites in the colour buffer.
  const shownSelection = selection && selection.length === n ? selection : null;
  const emphasis = useMemo(() => ({ visible, selection: shownSelection }), [visible, shownSelection]);
  const size = pointSize ?? defaultPointSize(n);

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<ScatterGl | null>(null);
  const viewRef = useRef<View>(home);
  const homeRef = useRef<View>(home);
  const sizeRef = useRef(size);
  const pointsRef = useRef(points);
  const rgbaRef = useRef(baseRgba);
  const emphasisRef = useRef(emphasis);
  const uploaded = useRef<{ points: Float32Array | null; rgba: Uint8Array | null; emphasis: Emphasis | null }>({ points: null, rgba: null, emphasis: null });
  const scheduleDrawRef = useRef<() => void>(() => {});
  const dragRef = useRef<{ x: number; y: number } | null>(null);
  const [status, setStatus] = useState<GlStatus>('starting');
  const [dragging, setDragging] = useState(false);
  const [tool, setTool] = useState<Tool>('pan');
  // The shape being drawn, in CSS pixels of the canvas.
  const [shape, setShape] = useState<{ kind: 'lasso' | 'box'; mode: SelectionMode; path: number[] } | null>(null);
  // The shape itself lives in a ref: pointer moves can arrive faster than React renders the overlay.
  const shapeRef = useRef(shape);
  const [hover, setHover] = useState<{ index: number; left: number; top: number } | null>(null);
  const gridRef = useRef<{ points: Float32Array; grid: PointGrid } | null>(null);
  const hoverFrame = useRef(0);
  // When a selection ended, so the frame that shows it can report how long the user waited.
  // `shown` is the selection the shape produced: the first frame drawn with it shows it.
  const selectionEndedAt = useRef<{ at: number; shown: Uint8Array | null } | null>(null);
  const hintId = useId();
  // Lasso and box tests run in a worker; results for a shape drawn before the latest (or before Esc) are dropped.
  const hitTesterRef = useRef<HitTester | null>(null);
  const hitRequest = useRef(0);
  const hitPending = useRef(false);
  // The selection as last set here or by the owner, so two quick shapes combine in order.
  const selectionRef = useRef<Uint8Array | null>(selection);
  selectionRef.current = selection;
  const drawingRef = useRef(drawing);

  // The GL context lives as long as the canvas; data arrive through the effects below.
  useEffect(() => {
    const canvas = canvasRef.current!;
    let frame = 0;
    let frameCount = 0;
    const draw = () => {
      frame = 0;
      const renderer = rendererRef.current;
      if (!renderer) return;
      const ms = renderer.draw(viewRef.current, sizeRef.current, window.devicePixelRatio || 1);
      canvas.dataset.frameMs = ms.toFixed(2);
      canvas.dataset.frameCount = String(++frameCount);
      // The window shown, so a test can turn pixels into data coordinates as the plot does.
      const { x0, x1, y0, y1 } = viewRef.current;
      canvas.dataset.view = `${x0},${x1},${y0},${y1}`;
      if (selectionEndedAt.current && uploaded.current.emphasis?.selection === selectionEndedAt.current.shown) {
        canvas.dataset.selectionShownMs = (performance.now() - selectionEndedAt.current.at).toFixed(1);
        selectionEndedAt.current = null;
      }
    };
    const scheduleDraw = () => {
      if (frame === 0) frame = requestAnimationFrame(draw);
    };
    scheduleDrawRef.current = scheduleDraw;

    // One buffer pixel per device pixel of the content box (inside the border), so points stay sharp.
    const fitCanvasToBox = (entry?: ResizeObserverEntry) => {
      if (canvas.clientWidth === 0) return; // hidden behind the fallback message
      const ratio = window.devicePixelRatio || 1;
      let width = Math.max(1, Math.round(canvas.clientWidth * ratio));
      let height = Math.max(1, Math.round(canvas.clientHeight * ratio));
      // The browser's exact device-pixel size avoids rounding blur, but emulated pixel
      // densities (devtools, headless) report CSS pixels there: use it only when it agrees.
      const exact = entry?.devicePixelContentBoxSize?.[0];
      if (exact && Math.abs(exact.inlineSize - width) <= 2 && Math.abs(exact.blockSize - height) <= 2) {
        width = Math.max(1, exact.inlineSize);
        height = Math.max(1, exact.blockSize);
      }
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
        // Resizing cleared the buffer; drawing now (resize callbacks run before paint) avoids a blank frame.
        if (frame !== 0) cancelAnimationFrame(frame);
        draw();
      }
    };

    const start = () => {
      const renderer = createScatterGl(canvas, drawingRef.current);
      rendererRef.current = renderer;
      if (!renderer) {
        setStatus('unavailable');
        return;
      }
      canvas.dataset.webgl = renderer.api;
      canvas.dataset.drawing = renderer.drawing;
      renderer.setPoints(pointsRef.current);
      renderer.setColors(rgbaRef.current);
      renderer.setEmphasis(emphasisRef.current);
      uploaded.current = { points: pointsRef.current, rgba: rgbaRef.current, emphasis: emphasisRef.current };
      setStatus('ready');
      fitCanvasToBox();
      scheduleDraw();
    };

    const onContextLost = (event: Event) => {
      event.preventDefault(); // asks the browser to restore it
      rendererRef.current = null;
      setStatus('lost');
    };
    const onContextRestored = () => start();
    const onWheel = (event: WheelEvent) => {
      event.preventDefault(); // the wheel zooms the plot, not the page
      const box = canvas.getBoundingClientRect();
      const pixels = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaMode === 2 ? event.deltaY * box.height : event.deltaY;
      const factor = Math.exp(pixels * 0.002);
      viewRef.current = zoomView(viewRef.current, factor, (event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height, homeRef.current);
      scheduleDraw();
    };

    canvas.addEventListener('webglcontextlost', onContextLost);
    canvas.addEventListener('webglcontextrestored', onContextRestored);
    canvas.addEventListener('wheel', onWheel, { passive: false });
    const resizeObserver = new ResizeObserver((entries) => fitCanvasToBox(entries[entries.length - 1]));
    try {
      resizeObserver.observe(canvas, { box: 'device-pixel-content-box' });
    } catch {
      resizeObserver.observe(canvas); // browsers without device-pixel boxes
    }
    // Moving the window to a screen with another pixel density changes no CSS size.
    let densityQuery: MediaQueryList | null = null;
    const watchDensity = () => {
      densityQuery?.removeEventListener('change', onDensityChange);
      densityQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
      densityQuery.addEventListener('change', onDensityChange);
    };
    const onDensityChange = () => {
      fitCanvasToBox();
      watchDensity();
    };
    watchDensity();
    start();

    return () => {
      if (frame !== 0) cancelAnimationFrame(frame);
      resizeObserver.disconnect();
      densityQuery?.removeEventListener('change', onDensityChange);
      canvas.removeEventListener('webglcontextlost', onContextLost);
      canvas.removeEventListener('webglcontextrestored', onContextRestored);
      canvas.removeEventListener('wheel', onWheel);
      rendererRef.current?.dispose();
      rendererRef.current = null;
      uploaded.current = { points: null, rgba: null, emphasis: null };
      scheduleDrawRef.current = () => {};
    };
  }, []);

  // The worker starts with the first plot that can select (see the points effect) and ends with the plot.
  const hitTester = () => (hitTesterRef.current ??= createHitTester());
  useEffect(
    () => () => {
      hitRequest.current++;
      hitTesterRef.current?.dispose();
      hitTesterRef.current = null;
    },
    [],
  );

  useEffect(() => {
    pointsRef.current = points;
    // The worker copies the points now rather than when the first lasso ends.
    if (onSelectionChange) hitTester().setPoints(points);
    homeRef.current = home;
    viewRef.current = home;
    if (rendererRef.current && uploaded.current.points !== points) {
      rendererRef.current.setPoints(points);
      uploaded.current.points = points;
    }
    scheduleDrawRef.current();
  }, [points, home]);

  useEffect(() => {
    rgbaRef.current = baseRgba;
    if (rendererRef.current && uploaded.current.rgba !== baseRgba) {
      rendererRef.current.setColors(baseRgba);
      uploaded.current.rgba = baseRgba;
    }
    scheduleDrawRef.current();
  }, [baseRgba]);

  useEffect(() => {
    emphasisRef.current = emphasis;
    if (rendererRef.current && uploaded.current.emphasis !== emphasis) {
      rendererRef.current.setEmphasis(emphasis);
      uploaded.current.emphasis = emphasis;
    }
    scheduleDrawRef.current();
  }, [emphasis]);

  useEffect(() => {
    sizeRef.current = size;
    scheduleDrawRef.current();
  }, [size]);

  const zoomAtCentre = (factor: number) => {
    viewRef.current = zoomView(viewRef.current, factor, 0.5, 0.5, homeRef.current);
    scheduleDrawRef.current();
  };
  const resetView = () => {
    viewRef.current = homeRef.current;
    scheduleDrawRef.current();
  };
  /** Pointer position as fractions of the canvas and as data coordinates of the current view. */
  const locate = (event: { clientX: number; clientY: number }, canvas: HTMLCanvasElement) => {
    const box = canvas.getBoundingClientRect();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const view = viewRef.current;
    return { px, py, box, x: view.x0 + (px / box.width) * (view.x1 - view.x0), y: view.y1 - (py / box.height) * (view.y1 - view.y0) };
  };
  const toData = (px: number, py: number, box: DOMRect): [number, number] => {
    const view = viewRef.current;
    return [view.x0 + (px / box.width) * (view.x1 - view.x0), view.y1 - (py / box.height) * (view.y1 - view.y0)];
  };
  const onPointerDown = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    // The middle button pans in every tool, so a selection tool never traps the view.
    const selecting = tool !== 'pan' && event.button === 0 && onSelectionChange;
    if (event.button !== 0 && event.button !== 1) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    setHover(null);
    if (selecting) {
      const { px, py } = locate(event, event.currentTarget);
      const mode: SelectionMode = event.shiftKey ? 'add' : event.altKey ? 'subtract' : 'replace';
      shapeRef.current = { kind: tool, mode, path: [px, py] };
      setShape(shapeRef.current);
      return;
    }
    dragRef.current = { x: event.clientX, y: event.clientY };
    setDragging(true);
  };
  const onPointerMove = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    const canvas = event.currentTarget;
    const drawing = shapeRef.current;
    if (drawing) {
      if (drawing.kind === 'box') {
        const { px, py } = locate(event, canvas);
        shapeRef.current = { ...drawing, path: [drawing.path[0]!, drawing.path[1]!, px, py] };
      } else {
        // While a frame is drawn the browser merges pointer moves; the merged ones still hold every vertex the hand drew.
        const coalesced = event.nativeEvent.getCoalescedEvents?.() ?? [];
        const path = drawing.path.slice();
        for (const move of coalesced.length ? coalesced : [event]) {
          const { px, py } = locate(move, canvas);
          // A vertex every 3 pixels is as fine as a hand draws.
          if (Math.hypot(px - path[path.length - 2]!, py - path[path.length - 1]!) >= 3) path.push(px, py);
        }
        shapeRef.current = { ...drawing, path };
      }
      setShape(shapeRef.current);
      return;
    }
    const last = dragRef.current;
    if (!last) {
      if (renderTooltip) scheduleHover(event.clientX, event.clientY, canvas);
      return;
    }
    const box = canvas.getBoundingClientRect();
    viewRef.current = panView(viewRef.current, (event.clientX - last.x) / box.width, (event.clientY - last.y) / box.height);
    dragRef.current = { x: event.clientX, y: event.clientY };
    scheduleDrawRef.current();
  };
  const scheduleHover = (clientX: number, clientY: number, canvas: HTMLCanvasElement) => {
    if (hoverFrame.current !== 0) cancelAnimationFrame(hoverFrame.current);
    hoverFrame.current = requestAnimationFrame(() => {
      hoverFrame.current = 0;
      if (gridRef.current?.points !== points) gridRef.current = { points, grid: buildPointGrid(points) };
      const { px, py, box, x, y } = locate({ clientX, clientY }, canvas);
      const view = viewRef.current;
      const radiusPx = Math.max(4, size);
      const index = nearestPoint(gridRef.current.grid, points, x, y, (radiusPx / box.width) * (view.x1 - view.x0), (radiusPx / box.height) * (view.y1 - view.y0), visible);
      setHover(index < 0 ? null : { index, left: px, top: py });
    });
  };
  const finishShape = (canvas: HTMLCanvasElement) => {
    const drawing = shapeRef.current;
    shapeRef.current = null;
    setShape(null);
    if (!drawing || !onSelectionChange) return;
    const box = canvas.getBoundingClientRect();
    const started = performance.now();
    let polygon: number[];
    let hitShape: HitShape;
    if (drawing.kind === 'box') {
      if (drawing.path.length < 4) return;
      const [ax, ay] = toData(drawing.path[0]!, drawing.path[1]!, box);
      const [bx, by] = toData(drawing.path[2]!, drawing.path[3]!, box);
      polygon = boxPolygon(ax, ay, bx, by);
      hitShape = { kind: 'box', x0: ax, y0: ay, x1: bx, y1: by };
    } else {
      if (drawing.path.length < 6) return;
      polygon = [];
      for (let k = 0; k < drawing.path.length; k += 2) polygon.push(...toData(drawing.path[k]!, drawing.path[k + 1]!, box));
      hitShape = { kind: 'lasso', polygon };
    }
    const request = ++hitRequest.current;
    hitPending.current = true;
    const tested = points;
    void hitTester().test(tested, hitShape, visible).then(({ hit, ms, where }) => {
      // A newer shape, Esc, or new points since: this answer is out of date.
      if (request !== hitRequest.current || pointsRef.current !== tested) return;
      hitPending.current = false;
      const current = selectionRef.current;
      const next = combineSelection(current && current.length === hit.length ? current : null, hit, drawing.mode);
      canvas.dataset.selectMs = ms.toFixed(1);
      canvas.dataset.hitTest = where;
      const selected = countSelected(next) > 0 ? next : null;
      selectionEndedAt.current = { at: started, shown: selected };
      selectionRef.current = selected;
      onSelectionChange(selected, { kind: drawing.kind, polygon, mode: drawing.mode });
    });
  };
  const clearSelection = () => {
    // A shape still being tested no longer applies.
    hitRequest.current++;
    hitPending.current = false;
    if (!onSelectionChange || !selectionRef.current) return;
    selectionRef.current = null;
    onSelectionChange(null, null);
  };
  const onKeyDown = (event: ReactKeyboardEvent<HTMLCanvasElement>) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return; // leave the browser's own zoom keys alone
    const step = KEY_PAN_STEP;
    const pans: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const pan = pans[event.key];
    if (pan) viewRef.current = panView(viewRef.current, pan[0], pan[1]);
    else if (event.key === '+' || event.key === '=') viewRef.current = zoomView(viewRef.current, 1 / BUTTON_ZOOM, 0.5, 0.5, homeRef.current);
    else if (event.key === '-' || event.key === '_') viewRef.current = zoomView(viewRef.current, BUTTON_ZOOM, 0.5, 0.5, homeRef.current);
    else if (event.key === '0') viewRef.current = homeRef.current;
    else if (event.key === 'Escape' && onSelectionChange && (selection || hitPending.current)) clearSelection();
    else return;
    event.preventDefault();
    scheduleDrawRef.current();
  };
  const endDrag = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    if (shapeRef.current) finishShape(event.currentTarget);
    dragRef.current = null;
    setDragging(false);
  };
  const selectedCount = useMemo(() => countSelected(shownSelection), [shownSelection]);

  const unavailable = status === 'unavailable' || status === 'lost';
  return (
    <div className="cellar-scatter">
      <div className="cellar-scatter-plot">
        <div className="cellar-scatter-toolbar" role="toolbar" aria-label="Scatter plot view">
          <button type="button" onClick={() => zoomAtCentre(1 / BUTTON_ZOOM)} disabled={unavailable}>Zoom in</button>
          <button type="button" onClick={() => zoomAtCentre(BUTTON_ZOOM)} disabled={unavailable}>Zoom out</button>
          <button type="button" onClick={resetView} disabled={unavailable}>Fit all points</button>
          {onSelectionChange && (
            <span className="cellar-tool-group" role="group" aria-label="Drag to">
              {(['pan', 'lasso', 'box'] as const).map((t) => (
                <button key={t} type="button" aria-pressed={tool === t} onClick={() => setTool(t)} disabled={unavailable}>
                  {t === 'pan' ? 'Pan' : t === 'lasso' ? 'Lasso' : 'Box'}
                </button>
              ))}
            </span>
          )}
          {onSelectionChange && (
            <span className="cellar-selection-count" data-testid="selection-count" aria-live="polite">
              {selectedCount > 0 ? `${formatCount(selectedCount)} selected` : 'Nothing selected'}
            </span>
          )}
          {/* Always there (disabled when idle), so the plot below never moves as a selection comes and goes. */}
          {onSelectionChange && (
            <button type="button" disabled={selectedCount === 0} onClick={clearSelection}>
              Clear selection
            </button>
          )}
          {!unavailable && (
            <span className="cellar-hint" id={hintId}>
              {tool === 'pan'
                ? 'Drag or use the arrow keys to pan, scroll or press + and − to zoom, double-click or press 0 to fit.'
                : `Drag to draw a ${tool}; hold shift to add to the selection, alt to take away; the middle button pans; Esc clears.`}
            </span>
          )}
        </div>
        <div className="cellar-scatter-frame">
          {yLabel && <div className="cellar-axis-label cellar-axis-y">{yLabel}</div>}
          <div className="cellar-scatter-stage">
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={describePlot(n, colors)}
          aria-describedby={hintId}
          tabIndex={unavailable ? -1 : 0}
          onKeyDown={onKeyDown}
          className={`cellar-scatter-canvas${dragging ? ' dragging' : ''}${tool !== 'pan' ? ' selecting' : ''}`}
          data-tool={tool}
          style={{ height, display: unavailable ? 'none' : undefined }}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endDrag}
          onPointerCancel={endDrag}
          onPointerLeave={() => setHover(null)}
          onDoubleClick={resetView}
        />
        {shape && <ShapeOverlay shape={shape} />}
        {hover && renderTooltip && !shape && !dragging && (
          <div className="cellar-tooltip" role="tooltip" data-testid="point-tooltip" style={{ left: hover.left + 14, top: hover.top + 14 }}>
            {renderTooltip(hover.index)}
          </div>
        )}
          </div>
        </div>
        {xLabel && <div className="cellar-axis-label cellar-axis-x">{xLabel}</div>}
        {unavailable && (
          <p className="cellar-scatter-fallback" role="status" style={{ height }}>
            {status === 'lost'
              ? 'The graphics context was lost; the plot comes back when the system restores it.'
              : `This plot needs WebGL, which is not available here, so its ${formatCount(n)} points cannot be drawn.`}
          </p>
        )}
      </div>
      {colors && <Legend colors={colors} n={n} maxHeight={height} hidden={hidden} onHiddenChange={setHidden} note={colorNote} />}
    </div>
  );
}

/** Per point, 0 when its category is hidden; null when nothing is. */
function visibleMask(colors: ScatterColors, hidden: ReadonlySet<number>, n: number): Uint8Array | null {
  if (!colors || colors.kind !== 'category' || hidden.size === 0) return null;
  const hiddenCodes = new Uint8Array(colors.categories.length + 1);
  for (const code of hidden) hiddenCodes[code + 1] = 1;
  const mask = new Uint8Array(n);
  const codes = colors.codes;
  const nCategories = colors.categories.length;
  for (let i = 0; i < n; i++) {
    const code = i < codes.length ? codes[i]! : -1;
    mask[i] = hiddenCodes[code >= 0 && code < nCategories ? code + 1 : 0] ? 0 : 1;
  }
  return mask;
}

/** The lasso or box being drawn, over the canvas. */
function ShapeOverlay({ shape }: { shape: { kind: 'lasso' | 'box'; path: number[] } }): JSX.Element {
  const p = shape.path;
  let d = '';
  if (shape.kind === 'box' && p.length >= 4) d = `M${p[0]},${p[1]}H${p[2]}V${p[3]}H${p[0]}Z`;
  else for (let k = 0; k + 1 < p.length; k += 2) d += `${k === 0 ? 'M' : 'L'}${p[k]},${p[k + 1]}`;
  return (
    <svg className="cellar-shape-overlay" aria-hidden="true">
      <path d={shape.kind === 'lasso' ? `${d}Z` : d} />
    </svg>
  );
}

function describePlot(n: number, colors: ScatterColors): string {
  const count = `Scatter plot of ${formatCount(n)} ${n === 1 ? 'point' : 'points'}`;
  if (!colors) return count;
  if (colors.kind === 'category') return `${count}, coloured by ${colors.categories.length} ${colors.categories.length === 1 ? 'category' : 'categories'}`;
  return `${count}, coloured from ${formatLegendNumber(colors.min)} to ${formatLegendNumber(colors.max)}`;
}

interface LegendProps {
  colors: NonNullable<ScatterColors>;
  n: number;
  maxHeight: number;
  hidden: ReadonlySet<number>;
  onHiddenChange(hidden: ReadonlySet<number>): void;
  note?: string;
}

function Legend({ colors, n, maxHeight, hidden, onHiddenChange, note }: LegendProps): JSX.Element {
  return (
    <aside className="cellar-scatter-legend" aria-label="Legend" style={{ maxHeight }}>
      {colors.kind === 'category' ? (
        <CategoryLegend codes={colors.codes} categories={colors.categories} n={n} hidden={hidden} onHiddenChange={onHiddenChange} />
      ) : (
        <ColorBar values={colors.values} min={colors.min} max={colors.max} n={n} />
      )}
      {note && <p className="cellar-legend-note">{note}</p>}
    </aside>
  );
}

function CategoryLegend({ codes, categories, n, hidden, onHiddenChange }: { codes: Int32Array; categories: string[]; n: number; hidden: ReadonlySet<number>; onHiddenChange(hidden: ReadonlySet<number>): void }): JSX.Element {
  const counts = useMemo(() => categoryCounts(codes.length > n ? codes.subarray(0, n) : codes, categories.length), [codes, categories.length, n]);
  let counted = 0;
  for (let i = 0; i < counts.length; i++) counted += counts[i]!;
  const missing = n - counted;
  // Listed in natural order ("cluster 2" before "cluster 10"); colours stay keyed by code.
  const shown = useMemo(() => categories.map((_, code) => code).sort((a, b) => compareNatural(categories[a]!, categories[b]!)).slice(0, LEGEND_LIMIT), [categories]);
  // Missing (-1) counts as a category only when some point lacks one.
  const allCodes = useMemo(() => [...categories.map((_, code) => code), ...(missing > 0 ? [-1] : [])], [categories, missing]);
  const toggle = (code: number) => {
    const next = new Set(hidden);
    if (next.has(code)) next.delete(code);
    else next.add(code);
    onHiddenChange(next);
  };
  // Isolating the one category already isolated shows everything again.
  const isolate = (code: number) => {
    const isolated = hidden.size === allCodes.length - 1 && !hidden.has(code);
    onHiddenChange(isolated ? new Set() : new Set(allCodes.filter((c) => c !== code)));
  };
  const entry = (code: number, label: string, count: number, color: string) => (
    <li key={code} className={hidden.has(code) ? 'cellar-legend-hidden' : undefined} data-testid="legend-entry">
      <button type="button" className="cellar-legend-toggle" aria-pressed={!hidden.has(code)} title={hidden.has(code) ? `Show ${label}` : `Hide ${label}`} onClick={() => toggle(code)}>
        <span className="cellar-swatch" style={{ background: color }} aria-hidden="true" />
        <span className="cellar-legend-label">{label}</span>
        <LegendCount count={count} />
      </button>
      {/* The word comes from CSS, so an entry's text stays "label: count points". */}
      <button type="button" className="cellar-legend-only" title={`Show only ${label}`} aria-label={`Show only ${label}`} onClick={() => isolate(code)} />
    </li>
  );
  return (
    <>
      {hidden.size > 0 && (
        <button type="button" className="cellar-legend-showall" onClick={() => onHiddenChange(new Set())}>
          Show all ({formatCount(hidden.size)} hidden)
        </button>
      )}
      <ul className="cellar-legend-list">
        {shown.map((code) => entry(code, categories[code]!, counts[code]!, categoryColor(code)))}
        {categories.length > shown.length && <li className="cellar-legend-more">and {formatCount(categories.length - shown.length)} more categories</li>}
        {missing > 0 && entry(-1, 'missing', missing, MISSING_COLOR)}
      </ul>
    </>
  );
}

/** Reads as "label: 1,234 points" to a screen reader, shows just the number. */
function LegendCount({ count }: { count: number }): JSX.Element {
  return (
    <span className="cellar-legend-count">
      <span className="cellar-visually-hidden">: </span>
      {formatCount(count)}
      <span className="cellar-visually-hidden"> {count === 1 ? 'point' : 'points'}</span>
    </span>
  );
}

function ColorBar({ values, min, max, n }: { values: Float32Array; min: number; max: number; n: number }): JSX.Element {
  const missing = useMemo(() => {
    let count = Math.max(0, n - values.length);
    const end = Math.min(n, values.length);
    for (let i = 0; i < end; i++) if (Number.isNaN(values[i]!)) count++;
    return count;
  }, [values, n]);
  return (
    <div className="cellar-colorbar">
      <div className="cellar-colorbar-ramp" style={{ background: viridisGradient('to top') }} aria-hidden="true" />
      <div className="cellar-colorbar-ticks">
        <span>{formatLegendNumber(max)}</span>
        <span>{formatLegendNumber((min + max) / 2)}</span>
        <span>{formatLegendNumber(min)}</span>
      </div>
      {missing > 0 && (
        <p className="cellar-legend-missing">
          <span className="cellar-swatch" style={{ background: MISSING_COLOR }} aria-hidden="true" />
          NaN: {formatCount(missing)}
        </p>
      )}
    </div>
  );
}
