/** The bootstrap admin token test nodes start with (CARELEDGER_API_TOKEN; tests only). */
export const TEST_TOKEN = 'test-bootstrap-token-0123456789abcdef';

/** The Authorization header for TEST_TOKEN. */
export const TEST_AUTH = { authorization: `Bearer ${TEST_TOKEN}` } as const;
