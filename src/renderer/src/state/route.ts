// Hash routes (#/store?store=atlas&version=2): reload-safe, and the browser's back button works.
import { useEffect, useState } from 'react';

export const SCREENS = [
  { id: 'library', label: 'Library' },
  { id: 'inspect', label: 'File inspector' },
  { id: 'concat', label: 'Concatenate' },
  { id: 'store', label: 'Store' },
  { id: 'append', label: 'Append' },
  { id: 'embeddings', label: 'Embeddings' },
  { id: 'versions', label: 'Versions' },
  { id: 'lineage', label: 'Lineage' },
] as const;

export type ScreenId = (typeof SCREENS)[number]['id'];

export interface Route {
  screen: ScreenId;
  params: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const screen = SCREENS.find((s) => s.id === path)?.id ?? 'library';
  return { screen, params: Object.fromEntries(new URLSearchParams(query)) };
}

export function routeHref(screen: ScreenId, params: Record<string, string | undefined> = {}): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
  const query = new URLSearchParams(defined).toString();
  return `#/${screen}${query ? `?${query}` : ''}`;
}

export function navigate(screen: ScreenId, params: Record<string, string | undefined> = {}): void {
  window.location.hash = routeHref(screen, params);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
