/** Hash routes: `#/` fleet, `#/devices/<id>`, `#/layers`, `#/layers/fleet`, `#/layers/groups/<name>`, `#/rollouts/<id>`. */

export type Route =
  | { view: 'fleet' }
  | { view: 'device'; id: string }
  | { view: 'layers' }
  | { view: 'layer'; group: string | null }
  | { view: 'rollout'; id: string }
  | { view: 'unknown'; hash: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '');
  let decoded: string[];
  try {
    decoded = parts.map(decodeURIComponent);
  } catch {
    return { view: 'unknown', hash };
  }
  const [first, second, third] = decoded;
  if (decoded.length === 0) return { view: 'fleet' };
  if (first === 'devices' && decoded.length === 2) return { view: 'device', id: second! };
  if (first === 'layers' && decoded.length === 1) return { view: 'layers' };
  if (first === 'layers' && second === 'fleet' && decoded.length === 2) return { view: 'layer', group: null };
  if (first === 'layers' && second === 'groups' && decoded.length === 3) return { view: 'layer', group: third! };
  if (first === 'rollouts' && decoded.length === 2) return { view: 'rollout', id: second! };
  return { view: 'unknown', hash };
}

/** Calls `show` with the route now and on every change of the hash. */
export function onRoute(show: (route: Route) => void): void {
  window.addEventListener('hashchange', () => show(parseRoute(window.location.hash)));
  show(parseRoute(window.location.hash));
}
