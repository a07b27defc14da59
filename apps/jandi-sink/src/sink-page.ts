import type { AcceptedMessage } from '@app/jandi-standin';

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** JANDI's **bold**, on already-escaped text. */
const bold = (html: string) => html.replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');

function renderMessage(message: AcceptedMessage): string {
  const color = /^#[0-9A-Fa-f]{6}$/.test(message.connectColor ?? '')
    ? message.connectColor
    : '#CCCCCC';
  const info = (message.connectInfo ?? [])
    .map(
      (entry) => `<dt>${bold(escape(entry.title))}</dt><dd>${bold(escape(entry.description))}</dd>`,
    )
    .join('');
  return `<article style="border-left-color:${color}">
<header><time>${new Date(message.at).toISOString()}</time> <code>${escape(message.path)}</code></header>
<p>${bold(escape(message.body))}</p>${info ? `<dl>${info}</dl>` : ''}
</article>`;
}

/** The sink's page: every message JANDI would have shown, newest first, refreshed every 3 s. */
export function renderSinkPage(messages: readonly AcceptedMessage[]): string {
  const items = [...messages].reverse().map(renderMessage).join('\n');
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>JANDI sink (${messages.length})</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
article{border-left:6px solid;background:#f7f7f8;margin:1rem 0;padding:.6rem 1rem;border-radius:4px}
header{font-size:.8rem;color:#666}p{white-space:pre-wrap;margin:.5rem 0}
dl{margin:.4rem 0;display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0;white-space:pre-wrap}
</style></head><body>
<h1>JANDI sink</h1>
<p>What the relay would have posted to JANDI: ${messages.length} message(s). Set
<code>JANDI_WEBHOOK_URL</code> to send to a real JANDI topic instead. JSON: <a href="/messages">/messages</a>.</p>
${items || '<p><em>Nothing yet: post a Popbill event to ingest.</em></p>'}
</body></html>`;
}
