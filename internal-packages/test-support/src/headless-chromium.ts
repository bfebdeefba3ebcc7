/** The flags a headless Chromium runs with here: no sandbox, GPU, first-run UI or background traffic. */
export const HEADLESS_CHROMIUM_ARGS: string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
