import type { Command } from 'commander';
import { createApiClient, resolveRemote } from './api-client.ts';
import { exitCodes, printResult } from './output.ts';
import type { RemoteOptions } from './remote-commands.ts';

// `tresor user …`: people are managed on the running server (its API, with an
// operator key), never by opening the store.

/** The first owner's invitation: the token is printed alone on the last line, for scripts. */
export async function createOwner(tenantId: string, email: string, o: RemoteOptions): Promise<number> {
  const user = await createApiClient(resolveRemote(o)).inviteUser(tenantId, { email, role: 'owner' });
  printResult(!!o.json, user, `invited ${user.email} as owner of ${tenantId} (user ${user.id}); the invitation expires ${user.invitation.expiresAt}.
Hand this token to them; they accept it at POST /v1/auth/invitations/accept with a password, then enrol their authenticator:
${user.invitation.token}`);
  return exitCodes.done;
}

/** For a lost authenticator: the server records an `mfa.reset` security event and ends the user's sessions. */
export async function resetMfa(tenantId: string, userId: string, o: RemoteOptions): Promise<number> {
  const user = await createApiClient(resolveRemote(o)).resetUserMfa(tenantId, userId);
  printResult(!!o.json, user, `second factor of user ${user.id} reset; their sessions ended, and they enrol again at their next login`);
  return exitCodes.done;
}

type ApiCommand = (cmd: Command, examples: string, action: (...args: never[]) => Promise<number>) => Command;

export function userCommands(program: Command, apiCommand: ApiCommand, example: (...lines: string[]) => string) {
  const user = program.command('user').description('[api] tenant users: the first owner\'s invitation, 2FA resets');
  apiCommand(user.command('create-owner').description('invite a tenant\'s first owner (operator key); prints the invitation token alone on the last line')
    .requiredOption('--tenant <id>', 'tenant id (uuid)')
    .requiredOption('--email <address>', 'the owner\'s e-mail address')
  , example('TRESOR_TOKEN=$OPERATOR_KEY tresor user create-owner --tenant $TENANT --email ada@example.com'),
  (o: RemoteOptions & { tenant: string; email: string }) => createOwner(o.tenant, o.email, o));
  apiCommand(user.command('reset-mfa').description('reset a user\'s second factor (recorded as a security event); the user enrols again')
    .requiredOption('--tenant <id>', 'tenant id (uuid)')
    .requiredOption('--user <id>', 'user id (uuid)')
  , example('tresor user reset-mfa --tenant $TENANT --user $USER_ID --json'),
  (o: RemoteOptions & { tenant: string; user: string }) => resetMfa(o.tenant, o.user, o));
}
