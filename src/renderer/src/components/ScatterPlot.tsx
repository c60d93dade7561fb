// A WebGL scatter plot for embeddings (a million points and more): drag to pan, wheel to
// zoom, double-click to fit; colour by category or by a numeric value, with a legend.
import { useEffect, useId, useMemo, useRef, useState, type JSX, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { categoryColor, categoryCounts, colorBuffer, colorIdentity, formatLegendNumber, MISSING_COLOR, viridisGradient, type ScatterColors } from './scatter-colors';
import { createScatterGl, type ScatterGl } from './scatter-gl';
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
}

type GlStatus = 'starting' | 'ready' | 'unavailable' | 'lost';

/** Legends list at most this many categories; the rest are summarised in one line. */
const LEGEND_LIMIT = 200;
const BUTTON_ZOOM = 1.5;
/** Arrow keys move the view by this fraction of its size. */
const KEY_PAN_STEP = 0.1;

export function ScatterPlot({ points, colors, height = 480, pointSize }: ScatterPlotProps): JSX.Element {
  const n = points.length >> 1;
  const home = useMemo(() => fitView(computeBounds(points)), [points]);
  const [colorData, colorLow, colorHigh] = colorIdentity(colors);
  // Keyed on what the colours depend on (see colorIdentity), not on the wrapping object.
  const rgba = useMemo(() => colorBuffer(colors, n), [colorData, colorLow, colorHigh, n]);
  const size = pointSize ?? defaultPointSize(n);

  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rendererRef = useRef<ScatterGl | null>(null);
  const viewRef = useRef<View>(home);
  const homeRef = useRef<View>(home);
  const sizeRef = useRef(size);
  const pointsRef = useRef(points);
  const rgbaRef = useRef(rgba);
  const uploaded = useRef<{ points: Float32Array | null; rgba: Uint8Array | null }>({ points: null, rgba: null });
  const scheduleDrawRef = useRef<() => void>(() => {});
  const dragRef = useRef<{ x: number; y: number } | null>(null);
  const [status, setStatus] = useState<GlStatus>('starting');
  const [dragging, setDragging] = useState(false);
  const hintId = useId();

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
      const renderer = createScatterGl(canvas);
      rendererRef.current = renderer;
      if (!renderer) {
        setStatus('unavailable');
        return;
      }
      canvas.dataset.webgl = renderer.api;
      renderer.setPoints(pointsRef.current);
      renderer.setColors(rgbaRef.current);
      uploaded.current = { points: pointsRef.current, rgba: rgbaRef.current };
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
      uploaded.current = { points: null, rgba: null };
      scheduleDrawRef.current = () => {};
    };
  }, []);

  useEffect(() => {
    pointsRef.current = points;
    homeRef.current = home;
    viewRef.current = home;
    if (rendererRef.current && uploaded.current.points !== points) {
      rendererRef.current.setPoints(points);
      uploaded.current.points = points;
    }
    scheduleDrawRef.current();
  }, [points, home]);

  useEffect(() => {
    rgbaRef.current = rgba;
    if (rendererRef.current && uploaded.current.rgba !== rgba) {
      rendererRef.current.setColors(rgba);
      uploaded.current.rgba = rgba;
    }
    scheduleDrawRef.current();
  }, [rgba]);

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
  const onPointerDown = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    dragRef.current = { x: event.clientX, y: event.clientY };
    setDragging(true);
  };
  const onPointerMove = (event: ReactPointerEvent<HTMLCanvasElement>) => {
    const last = dragRef.current;
    if (!last) return;
    const box = event.currentTarget.getBoundingClientRect();
    viewRef.current = panView(viewRef.current, (event.clientX - last.x) / box.width, (event.clientY - last.y) / box.height);
    dragRef.current = { x: event.clientX, y: event.clientY };
    scheduleDrawRef.current();
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
    else return;
    event.preventDefault();
    scheduleDrawRef.current();
  };
  const endDrag = () => {
    dragRef.current = null;
    setDragging(false);
  };

  const unavailable = status === 'unavailable' || status === 'lost';
  return (
    <div className="cellar-scatter">
      <div className="cellar-scatter-plot">
        <div className="cellar-scatter-toolbar" role="toolbar" aria-label="Scatter plot view">
          <button type="button" onClick={() => zoomAtCentre(1 / BUTTON_ZOOM)} disabled={unavailable}>Zoom in</button>
          <button type="button" onClick={() => zoomAtCentre(BUTTON_ZOOM)} disabled={unavailable}>Zoom out</button>
          <button type="button" onClick={resetView} disabled={unavailable}>Fit all points</button>
          {!unavailable && (
            <span className="cellar-hint" id={hintId}>
              Drag or use the arrow keys to pan, scroll or press + and − to zoom, double-click or press 0 to fit.
            </span>
          )}
        </div>
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={describePlot(n, colors)}
          aria-describedby={hintId}
          tabIndex={unavailable ? -1 : 0}
          onKeyDown={onKeyDown}
          className={dragging ? 'cellar-scatter-canvas dragging' : 'cellar-scatter-canvas'}
          style={{ height, display: unavailable ? 'none' : undefined }}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endDrag}
          onPointerCancel={endDrag}
          onDoubleClick={resetView}
        />
        {unavailable && (
          <p className="cellar-scatter-fallback" role="status" style={{ height }}>
            {status === 'lost'
              ? 'The graphics context was lost; the plot comes back when the system restores it.'
              : `This plot needs WebGL, which is not available here, so its ${formatCount(n)} points cannot be drawn.`}
          </p>
        )}
      </div>
      {colors && <Legend colors={colors} n={n} maxHeight={height} />}
    </div>
  );
}

function describePlot(n: number, colors: ScatterColors): string {
  const count = `Scatter plot of ${formatCount(n)} ${n === 1 ? 'point' : 'points'}`;
  if (!colors) return count;
  if (colors.kind === 'category') return `${count}, coloured by ${colors.categories.length} ${colors.categories.length === 1 ? 'category' : 'categories'}`;
  return `${count}, coloured from ${formatLegendNumber(colors.min)} to ${formatLegendNumber(colors.max)}`;
}

function Legend({ colors, n, maxHeight }: { colors: NonNullable<ScatterColors>; n: number; maxHeight: number }): JSX.Element {
  return (
    <aside className="cellar-scatter-legend" aria-label="Legend" style={{ maxHeight }}>
      {colors.kind === 'category' ? <CategoryLegend codes={colors.codes} categories={colors.categories} n={n} /> : <ColorBar values={colors.values} min={colors.min} max={colors.max} n={n} />}
    </aside>
  );
}

function CategoryLegend({ codes, categories, n }: { codes: Int32Array; categories: string[]; n: number }): JSX.Element {
  const counts = useMemo(() => categoryCounts(codes.length > n ? codes.subarray(0, n) : codes, categories.length), [codes, categories.length, n]);
  let counted = 0;
  for (let i = 0; i < counts.length; i++) counted += counts[i]!;
  const missing = n - counted;
  // Listed in natural order ("cluster 2" before "cluster 10"); colours stay keyed by code.
  const shown = useMemo(() => categories.map((_, code) => code).sort((a, b) => compareNatural(categories[a]!, categories[b]!)).slice(0, LEGEND_LIMIT), [categories]);
  return (
    <ul className="cellar-legend-list">
      {shown.map((code) => (
        <li key={code}>
          <span className="cellar-swatch" style={{ background: categoryColor(code) }} aria-hidden="true" />
          <span className="cellar-legend-label">{categories[code]}</span>
          <LegendCount count={counts[code]!} />
        </li>
      ))}
      {categories.length > shown.length && <li className="cellar-legend-more">and {formatCount(categories.length - shown.length)} more categories</li>}
      {missing > 0 && (
        <li>
          <span className="cellar-swatch" style={{ background: MISSING_COLOR }} aria-hidden="true" />
          <span className="cellar-legend-label">missing</span>
          <LegendCount count={missing} />
        </li>
      )}
    </ul>
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
