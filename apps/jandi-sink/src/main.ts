import type { IncomingMessage, ServerResponse } from 'node:http';
import { stopOnSignals } from '@app/runtime/shutdown';
import { JandiStandin, JANDI_WINDOWS, type AcceptedMessage } from '@app/jandi-standin';
import { renderSinkPage } from './sink-page';

/** The newest messages kept; older ones are dropped so a long-running sink stays small. */
const KEEP = 500;

function view(req: IncomingMessage, res: ServerResponse, accepted: readonly AcceptedMessage[]) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') return res.writeHead(200).end('ok');
  if (path === '/messages') {
    return res
      .writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
      .end(JSON.stringify(accepted));
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(renderSinkPage(accepted));
}

/**
 * A visible local JANDI: accepts webhooks as JANDI does (headers, shape, 256 KB, 60/1 min and
 * 500/10 min per URL) and shows what arrived at GET / (PORT, default 8090).
 */
async function main(): Promise<void> {
  const standin = new JandiStandin({ windows: JANDI_WINDOWS, viewer: view });
  await standin.listen(Number(process.env.PORT ?? 8090), '0.0.0.0');
  console.log(`JANDI sink listening on port ${process.env.PORT ?? 8090}; open / to see messages`);
  let seen = 0;
  setInterval(() => {
    for (const message of standin.accepted.slice(seen)) {
      console.log(JSON.stringify({ path: message.path, at: message.at, body: message.body }));
    }
    if (standin.accepted.length > KEEP) standin.accepted.splice(0, standin.accepted.length - KEEP);
    seen = standin.accepted.length;
  }, 500).unref();
  const line = (fields: object, msg: string) => console.log(JSON.stringify({ ...fields, msg }));
  stopOnSignals({
    graceMs: 0,
    close: () => standin.close(),
    abandoned: () => [],
    logger: { log: line, error: line },
  });
}

void main();
