/** The page a callback without a session to go back to answers: plain HTML, nothing from the request echoed. */
export function callbackPage(title: string, message: string): string {
  const escape = (text: string) =>
    text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>
`;
}
