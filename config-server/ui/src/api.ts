/** The console's client of the config server's API: the session cookie goes along, writes carry the CSRF token. */

export interface Session {
  role: 'admin' | 'device';
  device_id: string | null;
  csrf_token: string | null;
  /** null on an open server (no token: no sign-in, no session). */
  expires_at: string | null;
  offline_after_s: number;
  prometheus: boolean;
  grafana_url: string | null;
}

/** An answer other than 2xx: its status, the server's `error` sentence and its `problems`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }

  get problems(): string[] {
    return Array.isArray(this.body.problems) ? this.body.problems.map(String) : [];
  }
}

export interface ApiRequest {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as YAML text. */
  yaml?: string;
  accept?: 'application/json' | 'application/yaml';
  /** The version the change is based on, sent as `If-Match: "<version>"`. */
  ifMatch?: number;
}

export interface ApiReply<T> {
  status: number;
  /** The version in the `ETag`, when there is one. */
  version: number | null;
  body: T;
}

export const SIGN_IN_PAGE = '/ui/sign-in';
let csrfToken: string | null = null;

/** The session of this page (401: to the sign-in page); keeps its CSRF token for the writes that follow. */
export async function loadSession(): Promise<Session> {
  const session = (await call<Session>('/ui/session')).body;
  csrfToken = session.csrf_token;
  return session;
}

/** One API request; 401 (the session ended) leaves for the sign-in page. */
export async function call<T>(path: string, request: ApiRequest = {}): Promise<ApiReply<T>> {
  const method = request.method ?? 'GET';
  const headers: Record<string, string> = { Accept: request.accept ?? 'application/json' };
  let body: string | undefined;
  if (request.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(request.json);
  } else if (request.yaml !== undefined) {
    headers['Content-Type'] = 'application/yaml';
    body = request.yaml;
  }
  if (request.ifMatch !== undefined) headers['If-Match'] = `"${request.ifMatch}"`;
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  if (response.status === 401) {
    window.location.assign(SIGN_IN_PAGE);
    throw new ApiError(401, 'the session has ended: sign in again', {});
  }
  const text = await response.text();
  const etag = /^(?:W\/)?"(\d+)"$/.exec(response.headers.get('ETag') ?? '');
  const version = etag ? Number(etag[1]) : null;
  const isJson = (response.headers.get('Content-Type') ?? '').includes('json');
  const parsed: unknown = isJson && text !== '' ? JSON.parse(text) : text;
  if (!response.ok) {
    const errorBody = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { error: text };
    const message = typeof errorBody.error === 'string' ? errorBody.error : `${method} ${path}: HTTP ${response.status}`;
    throw new ApiError(response.status, message, errorBody);
  }
  return { status: response.status, version, body: parsed as T };
}

/** A failure as one line for the page. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
