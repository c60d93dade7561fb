// The scatter plot's WebGL drawing: one program, two buffers (positions, colours), one
// drawArrays(POINTS). GLSL ES 1.00 so the same shaders run on WebGL2 and WebGL1.
import { viewTransform, type View } from './scatter-view';

const VERTEX_SHADER = `
attribute vec2 a_position;
attribute vec4 a_color;
uniform vec2 u_scale;
uniform vec2 u_offset;
uniform float u_pointSize;
varying vec4 v_color;
void main() {
  // Alpha 0 marks a hidden point (a category switched off): put it outside the clip box.
  gl_Position = a_color.a == 0.0 ? vec4(2.0, 2.0, 2.0, 1.0) : vec4(a_position * u_scale + u_offset, 0.0, 1.0);
  gl_PointSize = u_pointSize;
  v_color = a_color;
}`;

// Round points: fragments outside the unit disc are dropped.
const FRAGMENT_SHADER = `
precision mediump float;
varying vec4 v_color;
void main() {
  vec2 c = gl_PointCoord * 2.0 - 1.0;
  if (dot(c, c) > 1.0) discard;
  gl_FragColor = v_color;
}`;

type Gl = WebGL2RenderingContext | WebGLRenderingContext;

export interface ScatterGl {
  readonly api: 'webgl2' | 'webgl';
  /** n×2 interleaved x,y. */
  setPoints(points: Float32Array): void;
  /** n×4 RGBA bytes. */
  setColors(rgba: Uint8Array): void;
  /** Draws the window and returns the time it took, GPU included, in milliseconds. */
  draw(view: View, pointSizeCssPx: number, devicePixelRatio: number): number;
  dispose(): void;
}

const CONTEXT_OPTIONS: WebGLContextAttributes = { alpha: false, antialias: false, depth: false, stencil: false, preserveDrawingBuffer: false, powerPreference: 'high-performance' };

/** Null when the browser has no WebGL (or it failed to start). */
export function createScatterGl(canvas: HTMLCanvasElement): ScatterGl | null {
  const gl2 = canvas.getContext('webgl2', CONTEXT_OPTIONS);
  const gl: Gl | null = gl2 ?? canvas.getContext('webgl', CONTEXT_OPTIONS);
  if (!gl || gl.isContextLost()) return null;
  const program = linkProgram(gl);
  if (!program) return null;
  const positionBuffer = gl.createBuffer();
  const colorBuffer = gl.createBuffer();
  const positionLocation = gl.getAttribLocation(program, 'a_position');
  const colorLocation = gl.getAttribLocation(program, 'a_color');
  const scaleLocation = gl.getUniformLocation(program, 'u_scale');
  const offsetLocation = gl.getUniformLocation(program, 'u_offset');
  const pointSizeLocation = gl.getUniformLocation(program, 'u_pointSize');
  const [, maxPointSize] = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE) as Float32Array;
  const syncPixel = new Uint8Array(4);
  let pointCount = 0;
  let colorCount = 0;

  return {
    api: gl2 ? 'webgl2' : 'webgl',
    setPoints(points) {
      gl.bindBuffer(gl.ARRAY_BUFFER, positionBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, points, gl.STATIC_DRAW);
      pointCount = points.length >> 1;
    },
    setColors(rgba) {
      gl.bindBuffer(gl.ARRAY_BUFFER, colorBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
      colorCount = rgba.length >> 2;
    },
    draw(view, pointSizeCssPx, devicePixelRatio) {
      const started = performance.now();
      gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
      gl.clearColor(1, 1, 1, 1);
      gl.clear(gl.COLOR_BUFFER_BIT);
      // Until both buffers describe the same points there is nothing consistent to draw.
      const count = Math.min(pointCount, colorCount);
      if (count > 0) {
        gl.useProgram(program);
        gl.bindBuffer(gl.ARRAY_BUFFER, positionBuffer);
        gl.enableVertexAttribArray(positionLocation);
        gl.vertexAttribPointer(positionLocation, 2, gl.FLOAT, false, 0, 0);
        gl.bindBuffer(gl.ARRAY_BUFFER, colorBuffer);
        gl.enableVertexAttribArray(colorLocation);
        gl.vertexAttribPointer(colorLocation, 4, gl.UNSIGNED_BYTE, true, 0, 0);
        const { scaleX, scaleY, offsetX, offsetY } = viewTransform(view);
        gl.uniform2f(scaleLocation, scaleX, scaleY);
        gl.uniform2f(offsetLocation, offsetX, offsetY);
        gl.uniform1f(pointSizeLocation, Math.min(maxPointSize ?? 64, Math.max(1, pointSizeCssPx * devicePixelRatio)));
        gl.drawArrays(gl.POINTS, 0, count);
      }
      // Reading one pixel waits for the GPU (finish() does not in Chromium), so the time
      // covers the drawing, not just its submission.
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, syncPixel);
      return performance.now() - started;
    },
    dispose() {
      gl.deleteBuffer(positionBuffer);
      gl.deleteBuffer(colorBuffer);
      gl.deleteProgram(program);
    },
  };
}

function linkProgram(gl: Gl): WebGLProgram | null {
  const vertex = compileShader(gl, gl.VERTEX_SHADER, VERTEX_SHADER);
  const fragment = compileShader(gl, gl.FRAGMENT_SHADER, FRAGMENT_SHADER);
  const program = gl.createProgram();
  if (!vertex || !fragment || !program) return null;
  gl.attachShader(program, vertex);
  gl.attachShader(program, fragment);
  gl.linkProgram(program);
  gl.deleteShader(vertex);
  gl.deleteShader(fragment);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    console.error(`Scatter plot shaders failed to link: ${gl.getProgramInfoLog(program)}`);
    gl.deleteProgram(program);
    return null;
  }
  return program;
}

function compileShader(gl: Gl, type: number, source: string): WebGLShader | null {
  const shader = gl.createShader(type);
  if (!shader) return null;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    console.error(`Scatter plot shader failed to compile: ${gl.getShaderInfoLog(shader)}`);
    gl.deleteShader(shader);
    return null;
  }
  return shader;
}
