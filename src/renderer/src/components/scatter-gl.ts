// The scatter plot's WebGL drawing. On a GPU: one program, two buffers (positions, colours),
// one drawArrays(POINTS). On software WebGL (no GPU: SwiftShader, llvmpipe), where each point
// sprite costs about half a microsecond, the points are drawn on the CPU into an image
// (scatter-raster.ts) that the GPU shows as one textured rectangle. GLSL ES 1.00 so the same
// shaders run on WebGL2 and WebGL1.
import { rasterizePoints, type Emphasis } from './scatter-raster';
import { emphasizeColors } from './scatter-selection';
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

// The CPU-drawn image, one texel per pixel of the drawing buffer (texture row 0 at the bottom, as gl_FragCoord).
const IMAGE_VERTEX_SHADER = `
attribute vec2 a_corner;
void main() {
  gl_Position = vec4(a_corner, 0.0, 1.0);
}`;

const IMAGE_FRAGMENT_SHADER = `
precision mediump float;
uniform sampler2D u_image;
uniform vec2 u_size;
void main() {
  gl_FragColor = texture2D(u_image, gl_FragCoord.xy / u_size);
}`;

type Gl = WebGL2RenderingContext | WebGLRenderingContext;

/** How points reach the screen: point sprites on the GPU, or drawn on the CPU into an image. */
export type ScatterDrawing = 'points' | 'image';

/** Renderers that are the CPU emulating a GPU; their point sprites are slow. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

function isSoftwareRenderer(gl: Gl): boolean {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : null;
  return typeof renderer === 'string' && SOFTWARE_RENDERER.test(renderer);
}

export interface ScatterGl {
  readonly api: 'webgl2' | 'webgl';
  readonly drawing: ScatterDrawing;
  /** n×2 interleaved x,y. */
  setPoints(points: Float32Array): void;
  /** n×4 RGBA bytes, before emphasis. */
  setColors(rgba: Uint8Array): void;
  /** Hidden points and the selection (the other points fade); masks of the wrong length are ignored. */
  setEmphasis(emphasis: Emphasis): void;
  /** Draws the window and returns the time it took, GPU included, in milliseconds. */
  draw(view: View, pointSizeCssPx: number, devicePixelRatio: number): number;
  dispose(): void;
}

const CONTEXT_OPTIONS: WebGLContextAttributes = { alpha: false, antialias: false, depth: false, stencil: false, preserveDrawingBuffer: false, powerPreference: 'high-performance' };

/**
 * Null when the browser has no WebGL (or it failed to start). `drawing` 'auto' draws on the
 * CPU when the WebGL is software, point sprites otherwise.
 */
export function createScatterGl(canvas: HTMLCanvasElement, drawing: ScatterDrawing | 'auto' = 'auto'): ScatterGl | null {
  const gl2 = canvas.getContext('webgl2', CONTEXT_OPTIONS);
  const gl: Gl | null = gl2 ?? canvas.getContext('webgl', CONTEXT_OPTIONS);
  if (!gl || gl.isContextLost()) return null;
  const api = gl2 ? 'webgl2' : 'webgl';
  if (drawing === 'image' || (drawing === 'auto' && isSoftwareRenderer(gl))) return createImageScatterGl(gl, api);
  const program = linkProgram(gl, VERTEX_SHADER, FRAGMENT_SHADER);
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
  let baseColors: Uint8Array = new Uint8Array(0);
  let emphasis: Emphasis = { visible: null, selection: null };
  // The colour buffer holds the colours with the emphasis applied.
  const uploadColors = () => {
    const n = baseColors.length >> 2;
    const fits = (mask: Uint8Array | null) => (mask && mask.length === n ? mask : null);
    const rgba = emphasizeColors(baseColors, fits(emphasis.visible), fits(emphasis.selection));
    gl.bindBuffer(gl.ARRAY_BUFFER, colorBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
    colorCount = n;
  };

  return {
    api,
    drawing: 'points',
    setPoints(points) {
      gl.bindBuffer(gl.ARRAY_BUFFER, positionBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, points, gl.STATIC_DRAW);
      pointCount = points.length >> 1;
    },
    setColors(rgba) {
      baseColors = rgba;
      uploadColors();
    },
    setEmphasis(next) {
      emphasis = next;
      uploadColors();
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

/** Points drawn on the CPU into an image the size of the drawing buffer, shown as one rectangle. */
function createImageScatterGl(gl: Gl, api: 'webgl2' | 'webgl'): ScatterGl | null {
  const program = linkProgram(gl, IMAGE_VERTEX_SHADER, IMAGE_FRAGMENT_SHADER);
  if (!program) return null;
  const cornerBuffer = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, cornerBuffer);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const cornerLocation = gl.getAttribLocation(program, 'a_corner');
  const imageLocation = gl.getUniformLocation(program, 'u_image');
  const sizeLocation = gl.getUniformLocation(program, 'u_size');
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  // Exactly one texel per pixel: no filtering, no mipmaps (which also suits WebGL1's odd-sized textures).
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  const [, maxPointSize] = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE) as Float32Array;
  const syncPixel = new Uint8Array(4);
  let points: Float32Array = new Float32Array(0);
  let colors: Uint32Array = new Uint32Array(0);
  let emphasis: Emphasis = { visible: null, selection: null };
  let image = new Uint8Array(0);
  let imageWords = new Uint32Array(0);
  let textureWidth = 0;
  let textureHeight = 0;

  return {
    api,
    drawing: 'image',
    setPoints(next) {
      points = next;
    },
    setColors(rgba) {
      // Read as one little-endian word per point (RGBA bytes), which needs 4-byte alignment.
      colors = rgba.byteOffset % 4 === 0 ? new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length >> 2) : new Uint32Array(rgba.slice().buffer, 0, rgba.length >> 2);
    },
    setEmphasis(next) {
      // Applied while drawing: no per-point copy of the colours when the selection changes.
      emphasis = next;
    },
    draw(view, pointSizeCssPx, devicePixelRatio) {
      const started = performance.now();
      const width = gl.drawingBufferWidth;
      const height = gl.drawingBufferHeight;
      if (imageWords.length !== width * height) {
        imageWords = new Uint32Array(width * height);
        image = new Uint8Array(imageWords.buffer);
      }
      const sizePx = Math.min(maxPointSize ?? 64, Math.max(1, pointSizeCssPx * devicePixelRatio));
      const n = colors.length;
      const fits = (mask: Uint8Array | null) => (mask && mask.length === n ? mask : null);
      rasterizePoints(points, colors, view, width, height, sizePx, imageWords, { visible: fits(emphasis.visible), selection: fits(emphasis.selection) });
      gl.viewport(0, 0, width, height);
      gl.useProgram(program);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
      if (textureWidth !== width || textureHeight !== height) {
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, image);
        textureWidth = width;
        textureHeight = height;
      } else {
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, image);
      }
      gl.uniform1i(imageLocation, 0);
      gl.uniform2f(sizeLocation, width, height);
      gl.bindBuffer(gl.ARRAY_BUFFER, cornerBuffer);
      gl.enableVertexAttribArray(cornerLocation);
      gl.vertexAttribPointer(cornerLocation, 2, gl.FLOAT, false, 0, 0);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, syncPixel);
      return performance.now() - started;
    },
    dispose() {
      gl.deleteBuffer(cornerBuffer);
      gl.deleteTexture(texture);
      gl.deleteProgram(program);
    },
  };
}

function linkProgram(gl: Gl, vertexSource: string, fragmentSource: string): WebGLProgram | null {
  const vertex = compileShader(gl, gl.VERTEX_SHADER, vertexSource);
  const fragment = compileShader(gl, gl.FRAGMENT_SHADER, fragmentSource);
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
