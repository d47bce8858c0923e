import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The only messages the sign-in page shows: fixed texts, never anything a client sent. */
export const SIGN_IN_MESSAGES = {
  none: '',
  invalidToken: 'that token is not valid',
} as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe to place in HTML, in an element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

/** The sign-in page from `sign-in.html` in `folder`, with `{{message}}` replaced by the (escaped) message. */
export async function signInPage(folder: string, message: keyof typeof SIGN_IN_MESSAGES): Promise<string> {
  const template = await readFile(join(folder, 'sign-in.html'), 'utf8');
  return template.replaceAll('{{message}}', escapeHtml(SIGN_IN_MESSAGES[message]));
}
