/** The console's entry point: the session, the header with navigation and sign-out, and the view of the route. */

import { describe, loadSession, type Session } from './api.js';
import { deviceView } from './device-view.js';
import { el, href, replaceChildren, setText, when } from './dom.js';
import { fleetView } from './fleet-view.js';
import { layerEditorView, layersView } from './layers-view.js';
import { rolloutView } from './rollout-view.js';
import { onRoute, type Route } from './router.js';

function header(session: Session): HTMLElement {
  const nav = el('nav', { 'aria-label': 'Console' });
  if (session.role === 'admin') nav.append(el('a', { href: '#/' }, 'Fleet'), el('a', { href: '#/layers' }, 'Layers'));
  else if (session.device_id) nav.append(el('a', { href: href('devices', session.device_id) }, session.device_id));
  const who = el('span', { class: 'who' }, session.role === 'admin' ? 'admin' : `device ${session.device_id ?? ''} (read-only)`, session.csrf_token ? `, session until ${when(session.expires_at)}` : ', open server');
  // A plain form: sign-out works as a navigation, with the CSRF token the server checks.
  const signOut = session.csrf_token
    ? el('form', { method: 'post', action: '/ui/sign-out', class: 'sign-out' }, el('input', { type: 'hidden', name: 'csrf_token', value: session.csrf_token }), el('button', { type: 'submit' }, 'Sign out'))
    : null;
  return el('div', { class: 'bar' }, el('span', { class: 'brand' }, 'Edge Metrics fleet console'), nav, who, signOut);
}

async function start(): Promise<void> {
  const top = document.getElementById('top')!;
  const main = document.getElementById('main')!;
  let session: Session;
  try {
    session = await loadSession();
  } catch (error) {
    setText(main, `Could not start the console: ${describe(error)}`);
    return;
  }
  replaceChildren(top, header(session));
  let stop: () => void = () => undefined;
  onRoute((route: Route) => {
    stop();
    // A device's session sees its own device only.
    if (session.role === 'device' && !(route.view === 'device' && route.id === session.device_id)) {
      window.location.hash = href('devices', session.device_id ?? '');
      return;
    }
    stop = show(route, main, session);
    main.focus();
  });
}

function show(route: Route, main: HTMLElement, session: Session): () => void {
  switch (route.view) {
    case 'fleet':
      document.title = 'Fleet — Edge Metrics';
      return fleetView(main, session);
    case 'device':
      document.title = `${route.id} — Edge Metrics`;
      return deviceView(main, session, route.id);
    case 'layers':
      document.title = 'Layers — Edge Metrics';
      return layersView(main);
    case 'layer':
      document.title = `${route.group ?? 'Fleet layer'} — Edge Metrics`;
      return layerEditorView(main, route.group);
    case 'rollout':
      document.title = `Rollout ${route.id} — Edge Metrics`;
      return rolloutView(main, route.id);
    case 'unknown':
      replaceChildren(main, el('h1', {}, 'Not found'), el('p', {}, `Nothing at ${route.hash}. `, el('a', { href: '#/' }, 'Back to the fleet')));
      return () => undefined;
  }
}

void start();
