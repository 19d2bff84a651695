import { loadConfig } from '../config/config.js';
import { startNode } from '../node/startNode.js';

/** `careledger start`: runs a node until SIGINT/SIGTERM, then stops it cleanly (anvil dumps its state). */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  const node = await startNode(config);
  console.log(
    `CareLedger node listening on ${node.url} (organisation ${node.organization}, chain RPC ${node.rpcUrl})`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    node.logger.info({ signal }, 'stopping');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        node.logger.error({ err: String(error) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
