import type { Browser, Page } from 'playwright-core';

/** Debian's chromium (or CHROMIUM_PATH), headless, through playwright-core. */
export function launchChromium(): Promise<Browser>;
/** Signs in on the console's sign-in page with `token` and waits for the console to show. */
export function signIn(page: Page, base: string, token: string): Promise<void>;
