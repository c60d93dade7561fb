// The hardening every Cellar window gets (Electron security checklist).

/**
 * The one content security policy of the page, sent as a header by every server of it (the
 * app:// handler, `cellar serve`): only its own scripts, workers, styles and data, no
 * plugins, no frames, no forms, no connections elsewhere. (Inline style attributes are React's.)
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
  // Module workers from the page's own files only (the scatter plot's hit test); no blob: or data: workers.
  "worker-src 'self'",
  "manifest-src 'none'",
].join('; ');

/** Content types of the page's files, for both servers of the page (app:// and `cellar serve`). */
export const PAGE_MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** Development only (`electron-vite dev`, never packaged): the dev server's module reloading needs its socket and preamble. */
export function developmentContentSecurityPolicy(devOrigin: string): string {
  const socket = devOrigin.replace(/^http/, 'ws');
  return CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace("connect-src 'self'", `connect-src 'self' ${socket}`);
}

/** Sites the app may open in the user's browser (documentation it links to); anything else is refused. */
export const EXTERNAL_HOSTS = ['anndata.readthedocs.io', 'scanpy.readthedocs.io', 'tiledbsoma.readthedocs.io', 'docs.scvi-tools.org', 'cellxgene.cziscience.com', 'www.10xgenomics.com'] as const;

export function isAllowedExternalUrl(target: string): boolean {
  try {
    const u = new URL(target);
    return u.protocol === 'https:' && !u.username && !u.password && u.port === '' && (EXTERNAL_HOSTS as readonly string[]).includes(u.hostname);
  } catch {
    return false;
  }
}

export const HARDENED_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  spellcheck: false,
} as const;

/** Navigation is allowed only within the app's own page (same scheme and host; custom schemes included). */
export function isAllowedNavigation(target: string, appUrl: string): boolean {
  try {
    const t = new URL(target);
    const a = new URL(appUrl);
    if (a.protocol === 'file:') return t.protocol === 'file:' && t.pathname === a.pathname;
    return t.protocol === a.protocol && t.host === a.host && t.host !== '';
  } catch {
    return false;
  }
}
