// The shell: a sidebar (screens and jobs) beside the current screen, routed by the URL hash.
import { lazy, Suspense, useEffect, useRef } from 'react';
import { AppProvider, useApp } from './state/AppState';
import { SCREENS, routeHref, useRoute, type Route } from './state/route';
import { JobsPanel } from './components/JobsPanel';
import { LibraryScreen } from './features/library/LibraryScreen';
import { InspectorScreen } from './features/inspector/InspectorScreen';
import { ConcatScreen } from './features/concat/ConcatScreen';
import { StoreScreen } from './features/store/StoreScreen';
import { AppendScreen } from './features/append/AppendScreen';
import { VersionsScreen } from './features/versions/VersionsScreen';
import { LoadingCard } from './components/ErrorMessage';

// The plot screens carry WebGL and graph-layout code: load them when first opened.
const EmbeddingsScreen = lazy(() => import('./features/embeddings/EmbeddingsScreen').then((m) => ({ default: m.EmbeddingsScreen })));
const LineageScreen = lazy(() => import('./features/lineage/LineageScreen').then((m) => ({ default: m.LineageScreen })));

function Screen({ route }: { route: Route }) {
  const p = route.params;
  switch (route.screen) {
    case 'library':
      return <LibraryScreen highlight={p.highlight} />;
    case 'inspect':
      return <InspectorScreen token={p.token} name={p.name} imported={p.imported} />;
    case 'concat':
      return <ConcatScreen collection={p.collection} />;
    case 'store':
      return <StoreScreen store={p.store} version={p.version} obs={p.obs} />;
    case 'append':
      return <AppendScreen store={p.store} />;
    case 'embeddings':
      return <EmbeddingsScreen store={p.store} />;
    case 'versions':
      return <VersionsScreen store={p.store} />;
    case 'lineage':
      return <LineageScreen refUid={p.ref} />;
  }
}

function Shell() {
  const route = useRoute();
  const { info, focusStore } = useApp();
  const main = useRef<HTMLElement>(null);

  // A new screen starts at its top, and keyboard focus moves to it.
  useEffect(() => {
    main.current?.scrollTo({ top: 0 });
    main.current?.focus({ preventScroll: true });
  }, [route.screen]);

  const storeScoped = new Set(['store', 'append', 'embeddings', 'versions']);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <div>
            <div className="brand-name">Cellar</div>
            {info && (
              <div className="brand-home" title={info.home} data-testid="brand-home">
                {info.mode === 'browser' ? 'in the browser' : 'desktop'} · {info.home.split(/[\\/]/).filter(Boolean).pop()}
              </div>
            )}
          </div>
        </div>
        <nav aria-label="Screens">
          <ul className="nav-list">
            {SCREENS.map((s) => (
              <li key={s.id}>
                <a
                  className="nav-link"
                  href={routeHref(s.id, storeScoped.has(s.id) && focusStore ? { store: focusStore } : {})}
                  aria-current={route.screen === s.id ? 'page' : undefined}
                >
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <JobsPanel />
      </aside>
      <main id="main" className="main" ref={main} tabIndex={-1}>
        <div className="main-inner">
          <Suspense fallback={<LoadingCard />}>
            <Screen route={route} />
          </Suspense>
        </div>
      </main>
    </div>
  );
}

export function App() {
  return (
    <AppProvider>
      <Shell />
    </AppProvider>
  );
}
