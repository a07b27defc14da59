import { JandiStandin, JANDI_WINDOWS } from './jandi-standin';

/** A visible JANDI sink: `ts-node libs/jandi-standin/src/main.ts` (PORT, default 8090). */
async function main(): Promise<void> {
  const standin = new JandiStandin({ windows: JANDI_WINDOWS });
  const base = await standin.listen(Number(process.env.PORT ?? 8090), '0.0.0.0');
  console.log(`JANDI stand-in listening on ${base}`);
  let seen = 0;
  setInterval(() => {
    for (const message of standin.accepted.slice(seen)) {
      console.log(
        JSON.stringify({
          path: message.path,
          body: message.body,
          connectColor: message.connectColor,
        }),
      );
    }
    seen = standin.accepted.length;
  }, 500);
  process.on('SIGTERM', () => void standin.close().then(() => process.exit(0)));
}

void main();
