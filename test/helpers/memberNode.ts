import { rmSync } from 'node:fs';
import { startLocalFounder, startLocalMember, type LocalNode } from '../../src/cli/supply/localConsortium.js';
import { authorizedFetch, type TestNode } from './inProcessNode.js';
import { TEST_TOKEN } from './testToken.js';

/** The settings of test nodes (see `startTestNode`): fast anchoring, validation in-process, consent off. */
const TEST_ENV = {
  ANCHOR_BATCH_AGE_MS: '150',
  CHAIN_CHECK_INTERVAL_MS: '300',
  LOG_LEVEL: 'silent',
  FHIR_VALIDATION_WORKERS: '0',
  CONSENT_ENFORCEMENT: 'off',
};

function asTestNode(node: LocalNode): TestNode & { key: `0x${string}` } {
  return Object.assign(node, {
    api: (path: string, init: RequestInit = {}) => authorizedFetch(node.url, node.token, path, init),
    async destroy() {
      await node.stop();
      rmSync(node.dataDir, { recursive: true, force: true });
    },
  });
}

/** A founding node (its own embedded chain; its account is the consortium admin) with the key it runs on. */
export async function startFounderNode(
  roles: string[],
  env: Record<string, string> = {},
): Promise<TestNode & { key: `0x${string}` }> {
  return asTestNode(
    await startLocalFounder({ name: 'founder', roles, token: TEST_TOKEN, env: { ...TEST_ENV, ...env } }),
  );
}

/** Another organisation's node on the founder's chain, admitted and funded by the founder before it starts. */
export async function startMemberNode(
  founder: TestNode & { key: `0x${string}` },
  name: string,
  roles: string[],
  env: Record<string, string> = {},
): Promise<TestNode> {
  const founderNode = founder as unknown as LocalNode;
  return asTestNode(
    await startLocalMember(founderNode, { name, roles, token: TEST_TOKEN, env: { ...TEST_ENV, ...env } }),
  );
}
