import { lstat, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Where the console's files are: its pages and styles, its compiled browser code, the sign-in page. */
export interface ConsoleRoots {
  /** `ui/public/`: index.html, styles, images. */
  public: string;
  /** `dist/ui/`: the compiled browser code (.js and .js.map). */
  scripts: string;
  /** `ui/sign-in/`: the sign-in page's template and stylesheet. */
  signIn: string;
}

/** The folders of the installed package. */
export const PACKAGE_ROOTS: ConsoleRoots = {
  public: join(__dirname, '..', 'ui', 'public'),
  scripts: join(__dirname, '..', 'dist', 'ui'),
  signIn: join(__dirname, '..', 'ui', 'sign-in'),
};

/** The types the console serves; a file of any other kind is not served. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A plain file name: no folder, no `..`, no hidden file. */
const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface Asset {
  type: string;
  body: Buffer;
}

/**
 * The asset `/ui/assets/<name>`: compiled code (`.js`, `.js.map`) from the scripts folder, anything else from the
 * public folder. Undefined for a name that is not a plain file name of a served type, or not a regular file (a
 * folder is never listed, a symbolic link never followed).
 */
export function readAsset(roots: ConsoleRoots, name: string): Promise<Asset | undefined> {
  const compiled = name.endsWith('.js') || name.endsWith('.js.map');
  return readFileIn(compiled ? roots.scripts : roots.public, name);
}

/** A file of a served type directly in `root`, or undefined. */
export async function readFileIn(root: string, name: string): Promise<Asset | undefined> {
  const type = CONTENT_TYPES[extname(name).toLowerCase()];
  if (!type || !FILE_NAME_PATTERN.test(name) || name.includes('..')) return undefined;
  const path = join(root, name);
  try {
    if (!(await lstat(path)).isFile()) return undefined;
    return { type, body: await readFile(path) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
