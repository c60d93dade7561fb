// The hardening every Cellar window gets (Electron security checklist).

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

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
