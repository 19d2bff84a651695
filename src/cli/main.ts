#!/usr/bin/env node
import { Command } from 'commander';
import { CareLedgerError } from '../core/errors.js';
import { auditCommand } from './audit.js';
import {
  collect,
  consentGrantCommand,
  consentListCommand,
  consentRevokeCommand,
  type ConsentGrantOptions,
  type ConsentListOptions,
  type ConsentRevokeOptions,
} from './consent.js';
import { importCommand, type ImportOptions } from './import.js';
import {
  networkDown,
  networkStatusCommand,
  networkUp,
  runNetworkCommand,
  type NetworkDownOptions,
  type NetworkUpOptions,
} from './network/network.js';
import {
  orgAdmitCommand,
  orgListCommand,
  orgReinstateCommand,
  orgSuspendCommand,
  type OrgAdmitOptions,
  type OrgConnectionOptions,
  type OrgReinstateOptions,
  type OrgSuspendOptions,
} from './org.js';
import { patientEraseCommand, type PatientEraseOptions } from './patient.js';
import {
  patientKeygenCommand,
  patientLinkCommand,
  type PatientKeygenOptions,
  type PatientLinkOptions,
} from './patientKeys.js';
import { startCommand } from './start.js';
import { supplyDemoCommand } from './supply/supplyDemo.js';
import {
  tokenCreateCommand,
  tokenListCommand,
  tokenRevokeCommand,
  type TokenCreateOptions,
} from './token.js';
import { verifyCommand } from './verify.js';

const program = new Command()
  .name('careledger')
  .description('CareLedger: health records anchored on a permissioned EVM ledger')
  .showHelpAfterError();

program
  .command('start')
  .description(
    'start a node (embedded anvil unless CHAIN_RPC_URL is set); configuration from the environment',
  )
  .action(async () => startCommand());

program
  .command('verify')
  .description('check a record file against its proof file and the chain, without any gateway')
  .argument('<record>', 'the record bytes (as GET /records/{id}/content returned them)')
  .argument('<proof>', 'the proof JSON (as GET /records/{id}/proof returned it)')
  .requiredOption('--rpc <url>', 'JSON-RPC URL of the chain the proof names')
  .option('--contract <address>', 'the AnchorRegistry address you trust (else the proof’s is used)')
  .option('--json', 'print the result as JSON')
  .action(
    async (record: string, proof: string, options: { rpc: string; contract?: string; json?: boolean }) => {
      process.exitCode = await verifyCommand(record, proof, options);
    },
  );

program
  .command('audit')
  .description('re-hash every stored record and report any that no longer match their anchored leaf')
  .option('--data <dir>', 'the node’s data folder (default CARELEDGER_DATA or ./data)')
  .option('--rpc <url>', 'chain JSON-RPC URL (default CHAIN_RPC_URL or the embedded anvil)')
  .option('--json', 'print the report as JSON')
  .action(async (options: { data?: string; rpc?: string; json?: boolean }) => {
    process.exitCode = await auditCommand(options);
  });

const token = program.command('token').description('manage bearer tokens for the gateway API');
token
  .command('create')
  .description('create a token and print it (once)')
  .requiredOption('--name <name>', 'who or what uses it, e.g. dr.jones or lab-import')
  .requiredOption('--role <role>', 'admin, clinician (read and write), reader, or patient')
  .option('--expires-days <days>', 'expire after this many days')
  .option(
    '--scopes <scopes>',
    'SMART scopes, space-separated, e.g. "user/Observation.read patient/*.read" (default: the role’s)',
  )
  .option('--subject <reference>', 'whom it acts for: Practitioner/<id>, or Patient/<id> for a patient token')
  .option('--address <address>', "the person's chain address (a practitioner a consent can name as grantee)")
  .option('--data <dir>', 'the node’s data folder (default CARELEDGER_DATA or ./data)')
  .action((options: TokenCreateOptions) => {
    process.exitCode = tokenCreateCommand(options);
  });
token
  .command('list')
  .description('list tokens (names, roles, states; never the tokens)')
  .option('--data <dir>', 'the node’s data folder')
  .action((options: { data?: string }) => {
    process.exitCode = tokenListCommand(options);
  });
token
  .command('revoke')
  .description('revoke every active token with this name')
  .requiredOption('--name <name>', 'the token name')
  .option('--data <dir>', 'the node’s data folder')
  .action((options: { name: string; data?: string }) => {
    process.exitCode = tokenRevokeCommand(options);
  });

program
  .command('import')
  .description(
    'load FHIR data into a running gateway over its FHIR API: Bundles and single resources (.json), FHIR Bulk Data (.ndjson), or folders of them',
  )
  .argument('<paths...>', '.json and .ndjson files, or folders holding them')
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'bearer token of a clinician or admin (default CARELEDGER_TOKEN)')
  .option('-r, --recursive', 'also import the files of subfolders')
  .option('--batch-size <n>', 'resources per batch request for NDJSON and batch Bundles (1–1000)', '100')
  .option('--json', 'print the summary as JSON')
  .addHelpText(
    'after',
    `
Resources with an id are PUT with it, so references by the source ids keep working; transaction and collection
Bundles are sent as one transaction, resolving urn:uuid references between their entries. A folder's files are
imported Organizations, Practitioners and Patients first (subfolders only with --recursive). Exit 0 when everything
was accepted, 1 when any resource was rejected (each is listed with its file and line or entry), 2 when the
import could not run (bad options, unreachable gateway, refused token, unreadable or non-JSON file).
`,
  )
  .action(async (paths: string[], options: ImportOptions) => {
    process.exitCode = await importCommand(paths, options);
  });

const patient = program.command('patient').description('patient operations on a running gateway');
patient
  .command('erase')
  .description(
    "erase a patient's data for good (crypto-shredding: their data key is destroyed; anchored hashes remain); admin token",
  )
  .argument('<patient-id>', 'the Patient id, e.g. 7c1f4b2e-…')
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'an admin bearer token (default CARELEDGER_TOKEN)')
  .option('--json', 'print the result as JSON')
  .addHelpText(
    'after',
    '\nExit 0 when erased, 1 when there was nothing to erase (unknown or already erased), 2 on errors.\n',
  )
  .action(async (patientId: string, options: PatientEraseOptions) => {
    process.exitCode = await patientEraseCommand(patientId, options);
  });

patient
  .command('keygen')
  .description(
    "create a patient's key (their pseudonymous chain identity; it signs consents) and print its address",
  )
  .requiredOption('--out <file>', 'where to write the key (mode 0600; never overwritten without --force)')
  .option('--force', 'overwrite an existing file')
  .option('--json', 'print the result as JSON')
  .action((options: PatientKeygenOptions) => {
    process.exitCode = patientKeygenCommand(options);
  });

patient
  .command('link')
  .description("link a patient's key to their Patient at a gateway, signing the statement with that key")
  .argument('<patient-id>', 'the Patient id at that gateway')
  .requiredOption('--key <file>', "the patient's key file (from patient keygen)")
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'a clinician or admin bearer token (default CARELEDGER_TOKEN)')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', '\nExit 0 when linked, 1 when the gateway refuses the link, 2 on errors.\n')
  .action(async (patientId: string, options: PatientLinkOptions) => {
    process.exitCode = await patientLinkCommand(patientId, options);
  });

const consent = program
  .command('consent')
  .description("a patient's consents on chain, signed with their key and relayed by a running gateway");
const consentExit =
  '\nExit 0 when done, 1 when the gateway or the chain refuses (the key may not act for the patient, an unknown or ' +
  'already revoked consent, a Patient without a linked key), 2 on errors (options, key file, gateway, token).\n';
consent
  .command('grant')
  .description(
    "sign, with the patient's (or a delegate's) key, a consent for the key linked to a Patient, and submit it",
  )
  .argument(
    '<patient-id>',
    'the Patient id at that gateway (their key must be linked: careledger patient link)',
  )
  .requiredOption(
    '--key <file>',
    "the signer's key file: the patient's (from patient keygen) or a delegate's",
  )
  .requiredOption(
    '--grantee <address>',
    "who gets access: an organisation's or a practitioner's chain address",
  )
  .requiredOption(
    '--purpose <codes>',
    'purposes of use, comma-separated: TREAT, ETREAT, HPAYMT, HRESCH, PUBHLTH, HOPERAT, PATRQT',
    collect,
  )
  .option(
    '--scope <scope>',
    'type:<ResourceType>, category:<code> or resource:<Type>/<id>; repeat for more',
    collect,
  )
  .option('--from <date>', 'in force from (date or date-time with zone; default now)')
  .requiredOption('--until <date>', 'in force until (a date lasts through that day)')
  .option('--data-from <date>', 'only data dated from then (inclusive)')
  .option('--data-until <date>', 'only data dated until then (inclusive)')
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'a token that may write, or the patient’s own (default CARELEDGER_TOKEN)')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', consentExit)
  .action(async (patientId: string, options: ConsentGrantOptions) => {
    process.exitCode = await consentGrantCommand(patientId, options);
  });
consent
  .command('revoke')
  .description("sign, with the patient's (or a delegate's) key, the revocation of a consent, and submit it")
  .argument('<consent-id>', 'the consent id: 7 or chain-7')
  .requiredOption('--key <file>', "the signer's key file: the patient's or a delegate's")
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'a token that may write, or the patient’s own (default CARELEDGER_TOKEN)')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', consentExit)
  .action(async (consentId: string, options: ConsentRevokeOptions) => {
    process.exitCode = await consentRevokeCommand(consentId, options);
  });
consent
  .command('list')
  .description("a Patient's consents as on chain: status, grantee, purposes, scopes, periods")
  .argument('<patient-id>', 'the Patient id at that gateway')
  .option('--url <url>', 'gateway base URL (default http://127.0.0.1:$PORT, else port 8080)')
  .option('--token <token>', 'a bearer token that may read (default CARELEDGER_TOKEN)')
  .option('--json', 'print the FHIR searchset Bundle of Consent views')
  .addHelpText('after', consentExit)
  .action(async (patientId: string, options: ConsentListOptions) => {
    process.exitCode = await consentListCommand(patientId, options);
  });

const orgConnection = (command: Command, withKey: boolean): Command => {
  command
    .option(
      '--rpc <url>',
      'chain JSON-RPC URL (default CHAIN_RPC_URL, the --network anvil, or the embedded anvil)',
    )
    .option('--registry <address>', 'the OrganizationRegistry (default: from the founding node’s --data)')
    .option('--data <dir>', 'the founding node’s data folder (default CARELEDGER_DATA or ./data)')
    .option(
      '--network <dir>',
      'a local consortium folder from "network up": its anvil, founder key and registry',
    )
    .option('--json', 'print the result as JSON');
  if (withKey) {
    command.option(
      '--key <file-or-hex>',
      'the consortium admin’s chain key, a file or 0x hex (default CARELEDGER_ORG_KEY or <data>/keys/org-chain.key)',
    );
  }
  return command.addHelpText(
    'after',
    '\nExit 0 when done, 1 when the OrganizationRegistry refuses (not admin, unknown, already suspended…), 2 on other errors.\n',
  );
};

const org = program
  .command('org')
  .description('consortium admin operations on the OrganizationRegistry (admit, suspend, reinstate, list)');
orgConnection(
  org
    .command('admit')
    .description('admit an organisation with its name, roles, gateway URL and X25519 encryption key')
    .requiredOption('--address <address>', 'the organisation’s chain address (0x…)')
    .requiredOption('--name <name>', 'its name, e.g. "Community Clinic"')
    .requiredOption(
      '--roles <roles>',
      'comma-separated: PROVIDER, PAYER, RESEARCHER, MANUFACTURER, DISTRIBUTOR, DISPENSER, DEVICE_VENDOR, REGULATOR',
    )
    .option('--url <url>', 'its gateway URL, e.g. https://gw.clinic.example')
    .option('--encryption-key <hex>', 'its X25519 encryption public key (32 bytes of 0x hex)'),
  true,
).action(async (options: OrgAdmitOptions) => {
  process.exitCode = await orgAdmitCommand(options);
});
orgConnection(
  org
    .command('suspend')
    .description(
      'suspend an active organisation: it can no longer anchor, relay consents or read under consent',
    )
    .requiredOption('--address <address>', 'the organisation’s chain address')
    .option('--reason <text>', 'why (recorded in the OrganizationSuspended event)'),
  true,
).action(async (options: OrgSuspendOptions) => {
  process.exitCode = await orgSuspendCommand(options);
});
orgConnection(
  org
    .command('reinstate')
    .description('reinstate a suspended organisation')
    .requiredOption('--address <address>', 'the organisation’s chain address'),
  true,
).action(async (options: OrgReinstateOptions) => {
  process.exitCode = await orgReinstateCommand(options);
});
orgConnection(
  org.command('list').description('every member with status, roles, gateway URL and encryption key'),
  false,
).action(async (options: OrgConnectionOptions) => {
  process.exitCode = await orgListCommand(options);
});

const network = program
  .command('network')
  .description('a local consortium on one machine: one anvil and one gateway per organisation');
network
  .command('up')
  .description(
    'start (or resume) one anvil and N gateways (hospital, clinic, insurer, org-4…), each admitted to the consortium',
  )
  .option('--orgs <n>', 'how many organisations (1–20; default 3, or the existing network’s)')
  .option('--dir <dir>', 'the network folder: chain state, one data folder per gateway, logs', './network')
  .option('--base-port <port>', 'anvil on base-port, gateway k on base-port+k (default 9545)')
  .option('--json', 'print the network as JSON (without tokens)')
  .addHelpText(
    'after',
    '\nThe processes run detached (logs in <dir>/<name>.log); <dir>/network.json (mode 0600) records pids, URLs and admin tokens.\n',
  )
  .action(async (options: NetworkUpOptions) => {
    process.exitCode = await runNetworkCommand(() => networkUp(options));
  });
network
  .command('down')
  .description('stop every process of the network (SIGTERM, SIGKILL after 20 s); the data is kept')
  .option('--dir <dir>', 'the network folder', './network')
  .option('--purge', 'also delete the network folder (chain, data, keys, logs)')
  .option('--json', 'print the result as JSON')
  .action(async (options: NetworkDownOptions) => {
    process.exitCode = await runNetworkCommand(() => networkDown(options));
  });
network
  .command('status')
  .description('whether each process of the network is alive and each gateway healthy')
  .option('--dir <dir>', 'the network folder', './network')
  .option('--json', 'print the status as JSON')
  .action(async (options: { dir?: string; json?: boolean }) => {
    process.exitCode = await networkStatusCommand(options);
  });

const supply = program.command('supply').description('the drug supply chain');
supply
  .command('demo')
  .description(
    'a drug’s journey across a manufacturer, a wholesaler and a pharmacy (three gateways on a local chain started for it), with a counterfeit, a clone, a diverted pack and a recall',
  )
  .option('--json', 'print one JSON object per step')
  .action(async (options: { json?: boolean }) => {
    process.exitCode = await supplyDemoCommand(options);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CareLedgerError) {
    console.error(`careledger: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(2);
});
